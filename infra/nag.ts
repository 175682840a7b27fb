import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges validation findings (cdk-nag AwsSolutions rules, CDK's built-in template checks)
 * on one construct and its children, each with the reason it does not apply here. cdk-nag 3
 * reads these acknowledgments (CDK's `Validations.of().acknowledge()`); there is no blanket
 * stack-level acknowledgment anywhere in Precog: every one sits on the construct it is about.
 */
export function acknowledge(scope: IConstruct, rules: Record<string, string>): void {
  Validations.of(scope).acknowledge(...Object.entries(rules).map(([id, reason]) => ({ id, reason })));
}
