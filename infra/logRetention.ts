import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Retention of every log group in the stack (functions, the trigger provider, PostgreSQL, flow
 * logs): a year, the Control Tower baseline (CT.CLOUDWATCH.PR.2), so a trade can be traced back
 * through a season. At Precog's volume that is cents a month of storage.
 */
export const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;
