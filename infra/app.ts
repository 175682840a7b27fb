import { App, Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import { PrecogStack } from './precogStack';

const app = new App();
// Environment-agnostic: `cdk synth` runs offline; `cdk deploy` takes the account and region of
// the caller's AWS profile. Deployment switches come from context (infra/config.ts):
// -c schedules=off|data|all, -c executionMode=paper|live, -c kalshiEnv=demo|production,
// -c alarmEmail=…, -c natGateways=1|2, -c dbInstanceType=t4g.small, -c multiAz=true|false.
new PrecogStack(app, 'Precog', {
  description: 'Precog: automated prediction-market trading (Lambda, EventBridge, SQS, RDS PostgreSQL)',
});
// cdk-nag (AWS Solutions) runs on every synth: an unacknowledged finding fails it, and
// cdk.out/validation-report.json lists what was found. Acknowledgments sit on the constructs
// they concern, each with its reason (infra/nag.ts).
// cdk-nag is CommonJS whose re-exports Node's ESM loader cannot name: take them from the default export.
Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app));
