import { App } from 'aws-cdk-lib';
import { PrecogStack } from './precogStack';

const app = new App();
// Environment-agnostic: `cdk synth` runs offline; `cdk deploy` takes the account and region of
// the caller's AWS profile.
new PrecogStack(app, 'Precog', {
  description: 'Precog: automated prediction-market trading (Lambda, EventBridge, SQS, RDS PostgreSQL)',
});
