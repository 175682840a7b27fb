import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The Precog deployment. Network, database, functions, schedules, queues and alarms are added
 * construct by construct with the infrastructure issue; the stack exists now so that the CDK app,
 * its pinned toolchain and `npm run synth` are part of the project from the start.
 */
export class PrecogStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
  }
}
