import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { SETTINGS_FILE_CONTEXT_KEY, loadSettingsFile } from './config';
import { REPO_ROOT } from './functions';
import { guardValidator } from './guard';
import { PrecogStack } from './precogStack';

const app = new App();
// Environment-agnostic: `cdk synth` runs offline; `cdk deploy` takes the account and region of
// the caller's AWS profile. What is deployed comes from the deploy settings file (cdk.json names
// precog.settings.json; -c precogSettingsFile=… picks another), each key overridable for one
// deploy with -c key=value (infra/config.ts, docs/deploy.md).
const settingsFile = String(app.node.tryGetContext(SETTINGS_FILE_CONTEXT_KEY) ?? 'precog.settings.json');
new PrecogStack(app, 'Precog', {
  description: 'Precog: automated prediction-market trading (Lambda, EventBridge, SQS, RDS PostgreSQL)',
  settings: loadSettingsFile(path.resolve(REPO_ROOT, settingsFile)),
  settingsFile,
});
// cdk-nag (AWS Solutions) and cfn-guard (the AWS Control Tower proactive controls) run on every
// synth and print any unacknowledged finding; cdk.out/validation-report.json lists them. `cdk
// synth` still exits 0 then, so the gate is `npm run validate` (scripts/validate-template.sh),
// which fails on that report. Acknowledgments sit on the constructs they concern, each with its
// reason (infra/nag.ts, infra/guard.ts).
// cdk-nag is CommonJS whose re-exports Node's ESM loader cannot name: take them from the default export.
Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app), guardValidator());
