#!/usr/bin/env bash
# Validates the synthesized CloudFormation template the way CI does (npm run validate):
#  1. `cdk synth` of two configurations: the deploy settings file as checked in, and everything
#     switched on. cdk-nag (AwsSolutions) and cfn-guard (the AWS Control Tower proactive
#     controls, @cdklabs/cdk-validator-cfnguard) run as policy-validation plugins at synth: an
#     unacknowledged finding fails it (acknowledgments and their reasons: infra/guard.ts,
#     infra/nag.ts, docs/deploy.md).
#  2. cfn-lint on both templates: any error or warning fails, except the two checks below.
# cfn-lint is installed with pip when missing (there is no Debian package of it).
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION=1.51.0
# W3005: CDK adds a DependsOn that a GetAtt already implies (its own function roles): harmless.
# W3691: the template names only the major PostgreSQL version ("16": RDS picks its current
#   minor); cfn-lint's deprecated-version table lists bare majors ("16" and "17" alike), not a
#   deprecated release.
CFN_LINT_IGNORED=(W3005 W3691)

ensure_cfn_lint() {
  command -v cfn-lint >/dev/null 2>&1 && return 0
  echo "cfn-lint missing: installing cfn-lint==${CFN_LINT_VERSION} with pip" >&2
  local pip
  for pip in pip3 pip; do
    if command -v "$pip" >/dev/null 2>&1; then
      # Debian's Python refuses system-wide pip installs (PEP 668): a user install, then PATH.
      "$pip" install --quiet --user "cfn-lint==${CFN_LINT_VERSION}" \
        || "$pip" install --quiet --user --break-system-packages "cfn-lint==${CFN_LINT_VERSION}"
      export PATH="$(python3 -m site --user-base)/bin:$PATH"
      command -v cfn-lint >/dev/null 2>&1 && return 0
    fi
  done
  echo "cfn-lint is not installed and could not be installed with pip (no pip, or no access to PyPI)" >&2
  exit 1
}

OUT=cdk.out/validate
rm -rf "$OUT"
echo "== cdk synth (precog.settings.json), cdk-nag + cfn-guard" >&2
npx cdk synth --quiet -o "$OUT/settings"
echo "== cdk synth (everything on), cdk-nag + cfn-guard" >&2
npx cdk synth --quiet -o "$OUT/everything-on" \
  -c schedules=all -c executionMode=live -c kalshiEnv=production -c alarmEmail=ops@example.com \
  -c natGateways=2 -c multiAz=true -c reservedConcurrency=true -c databaseDeletionProtection=true

ensure_cfn_lint
echo "== $(cfn-lint --version)" >&2
cfn-lint --ignore-checks "${CFN_LINT_IGNORED[@]}" -- "$OUT/settings/Precog.template.json" "$OUT/everything-on/Precog.template.json"
echo "template validation passed: cdk-nag, cfn-guard (Control Tower), cfn-lint" >&2
