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
  local pip
  pip=$(command -v pip3 || command -v pip || true)
  if [[ -z "$pip" ]]; then
    echo "cfn-lint is not installed, and there is no pip to install it with" >&2
    exit 1
  fi
  echo "cfn-lint missing: installing cfn-lint==${CFN_LINT_VERSION} with $pip" >&2
  # A user install; Debian's Python refuses pip installs outside a venv (PEP 668) unless told
  # otherwise, and an older pip does not know that flag: try both.
  if ! "$pip" install --quiet --user --break-system-packages "cfn-lint==${CFN_LINT_VERSION}" 2>/dev/null \
    && ! "$pip" install --quiet --user "cfn-lint==${CFN_LINT_VERSION}"; then
    echo "cfn-lint is not installed and $pip could not install it (no access to PyPI?)" >&2
    exit 1
  fi
  PATH="$(python3 -m site --user-base)/bin:$PATH"
  export PATH
  command -v cfn-lint >/dev/null 2>&1 || { echo "cfn-lint was installed but is not on PATH" >&2; exit 1; }
}

# The synth's own exit status, and then its validation report: both plugins must have run and
# left no unacknowledged violation.
check_report() {
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    if (!fs.existsSync(file)) { console.error(`${file}: missing (the validation plugins did not run)`); process.exit(1); }
    const reports = JSON.parse(fs.readFileSync(file, "utf8")).pluginReports ?? [];
    const failed = reports.filter((r) => r.conclusion !== "success" || (r.violations ?? []).length > 0);
    for (const r of failed) console.error(`${file}: ${r.pluginName}: ${(r.violations ?? []).map((v) => v.ruleName).join(", ") || r.conclusion}`);
    if (!reports.some((r) => r.pluginName === "cdk-validator-cfnguard")) { console.error(`${file}: no cfn-guard report`); process.exit(1); }
    process.exit(failed.length > 0 ? 1 : 0);
  ' "$1/validation-report.json"
}

OUT=cdk.out/validate
rm -rf "$OUT"
echo "== cdk synth (precog.settings.json), cdk-nag + cfn-guard" >&2
npx cdk synth --quiet -o "$OUT/settings"
check_report "$OUT/settings"
echo "== cdk synth (everything on), cdk-nag + cfn-guard" >&2
npx cdk synth --quiet -o "$OUT/everything-on" \
  -c schedules=all -c executionMode=live -c kalshiEnv=production -c alarmEmail=ops@example.com \
  -c natGateways=2 -c multiAz=true -c reservedConcurrency=true -c databaseDeletionProtection=true
check_report "$OUT/everything-on"

ensure_cfn_lint
echo "== $(cfn-lint --version)" >&2
cfn-lint --ignore-checks "${CFN_LINT_IGNORED[@]}" -- "$OUT/settings/Precog.template.json" "$OUT/everything-on/Precog.template.json"
echo "template validation passed: cdk-nag, cfn-guard (Control Tower), cfn-lint" >&2
