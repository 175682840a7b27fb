import cfnGuard from '@cdklabs/cdk-validator-cfnguard';

/**
 * cfn-guard with the AWS Control Tower proactive controls bundled in
 * @cdklabs/cdk-validator-cfnguard, run as a CDK policy-validation plugin at synth. Findings are
 * acknowledged on the constructs they concern (infra/nag.ts `acknowledge`, rule ids such as
 * `CT.LAMBDA.PR.3`), each with its reason; none is disabled for the whole stack.
 */
export function guardValidator() {
  // CommonJS (jsii) package: take the class from the default export, as for cdk-nag.
  return new cfnGuard.CfnGuardValidator({ controlTowerRulesEnabled: true });
}

/** How CDK names a cfn-guard finding for acknowledgment: the plugin's name, then the guard rule's name. */
export const GUARD_ACK_PREFIX = 'cdk-validator-cfnguard::';

/**
 * The Control Tower controls Precog does not meet on purpose, by guard rule name, with the
 * control id (for docs/deploy.md) and the reason. `acknowledge()` them on the construct concerned
 * with `guardFindings(...)`; the stack test checks every acknowledgment covers a real finding.
 */
export const GUARD_REASONS = {
  cloudwatch_log_group_encrypted_check: [
    'CT.CLOUDWATCH.PR.3',
    'CloudWatch Logs encrypts every log group at rest with service keys; a customer key would add a key policy for the logs service whose mistake stops the group (and the function logging to it) from being created, with no access-control gain: IAM already limits who reads these logs, and they hold no credentials.',
  ],
  lambda_inside_vpc_check: [
    'CT.LAMBDA.PR.3',
    "CDK's trigger provider (aws-cdk-lib/triggers) only calls the Lambda API to invoke the migrate function, which itself runs in the VPC; CDK does not let its provider be placed in a VPC, and it touches no data.",
  ],
  rds_instance_multi_az_support_check: [
    'CT.RDS.PR.1',
    'Single-AZ by default to keep a personal trading stack affordable (Multi-AZ doubles the instance cost); 30 days of backups and a final snapshot cover recovery, and the multiAz setting turns the standby on.',
  ],
  rds_instance_deletion_protection_enabled_check: [
    'CT.RDS.PR.13',
    'Deletion protection follows the databaseDeletionProtection setting: off for the first deploy so that a failed creation rolls back cleanly (a protected instance ends it in ROLLBACK_FAILED); docs/deploy.md has the operator switch it on once the stack exists.',
  ],
  rds_instance_enhanced_monitoring_enabled_check: [
    'CT.RDS.PR.2',
    "The basic RDS metrics (CPU, free storage, connections) are alarmed; enhanced monitoring's OS metrics would add a monitoring role and a per-second log stream Precog does not read.",
  ],
  rds_instance_no_default_ports_check: [
    'CT.RDS.PR.20',
    'The default port 5432 is kept on purpose: the instance sits in isolated subnets, only the RDS Proxy security group reaches it, and a non-default port hides nothing from a client that can already reach it.',
  ],
  rds_storage_encrypted_kms_key_check: [
    'CT.RDS.PR.30',
    "Storage is encrypted with the AWS-managed RDS key: a customer key would add cost and a key whose deletion makes the database and its snapshots unreadable, with no access-control gain in a single-operator account.",
  ],
  rds_instance_iam_authentication_enabled_check: [
    'CT.RDS.PR.7',
    'The functions authenticate to the RDS Proxy with the generated Secrets Manager secret (IAM auth off on purpose: the proxy reads the same secret); nothing connects to the instance directly.',
  ],
  s3_bucket_default_encryption_kms_check: [
    'CT.S3.PR.10',
    'The archive bucket uses SSE-S3: its objects are market history without credentials, IAM on the bucket is the access control either way, and a customer key would add a per-request charge and a key whose deletion makes every archive (the only copy of what archival dropped) unreadable.',
  ],
  s3_bucket_logging_enabled_check: [
    'CT.S3.PR.2',
    'No server access logs for the archive bucket: only the archive and restore-check functions write it, through their IAM roles, once a day or once a month; a log bucket would need its own retention for logs nobody reads, and CloudTrail already records who called the bucket APIs.',
  ],
  s3_event_notifications_enabled_check: [
    'CT.S3.PR.4',
    'Nothing reacts to archive objects arriving: archive-partitions verifies each upload itself (size, checksum and row count) before it drops a partition, and its failures are a metric with an alarm.',
  ],
  s3_bucket_object_lock_enabled_check: [
    'CT.S3.PR.9',
    'No Object Lock on the archive bucket: a default retention would pin every archived month and every rewritten manifest version for its whole retention, undeletable even when an archive is wrong and must be rewritten. Versioning keeps overwritten or deleted versions 30 days, and the archive function refuses to overwrite an object whose checksum differs.',
  ],
} as const satisfies Record<string, readonly [string, string]>;

export type GuardRule = keyof typeof GUARD_REASONS;

/** The acknowledgment entries (CDK ids and reasons) of some guard rules, for `acknowledge()`. */
export function guardFindings(...rules: GuardRule[]): Record<string, string> {
  return Object.fromEntries(rules.map((rule) => [`${GUARD_ACK_PREFIX}${rule}`, `${GUARD_REASONS[rule][0]}: ${GUARD_REASONS[rule][1]}`]));
}
