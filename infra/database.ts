import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { guardFindings } from './guard';
import { LOG_RETENTION } from './logRetention';
import { acknowledge } from './nag';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  /** Security group of the clients (the functions): allowed to the proxy, nothing else. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** Instance class without `db.` (t4g.small). */
  readonly instanceType: string;
  readonly multiAz: boolean;
  /** Deletion protection (the databaseDeletionProtection setting: off until the first deploy succeeded). */
  readonly deletionProtection: boolean;
}

/** The logs RDS PostgreSQL can export (all of them: the server log and major-version upgrade logs). */
export const POSTGRES_LOG_EXPORTS = ['postgresql', 'upgrade'] as const;

/** The PostgreSQL major version: the tests' embedded server is 16 too. */
export const POSTGRES_VERSION = rds.PostgresEngineVersion.VER_16;

/** RDS PostgreSQL's default max_connections is LEAST(DBInstanceClassMemory / 9531392, 5000). */
const INSTANCE_MEMORY_GIB: Record<string, number> = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, '2xlarge': 32 };

/** About max_connections of an instance class (memory less what RDS reserves), for the connections alarm. */
export function estimatedMaxConnections(instanceType: string): number {
  const size = instanceType.split('.')[1] ?? '';
  const gib = INSTANCE_MEMORY_GIB[size] ?? 2;
  return Math.min(5000, Math.floor((gib * 1024 ** 3 * 0.9) / 9_531_392));
}

/**
 * RDS PostgreSQL 16 in the isolated subnets, encrypted at rest, TLS enforced by its parameter
 * group, 30 days of automated backups, deletion protection once switched on (databaseDeletionProtection)
 * and a final snapshot; its PostgreSQL log exported to CloudWatch Logs; credentials
 * generated into Secrets Manager; an RDS Proxy in front that the functions reach with the same
 * secret over TLS (no IAM database tokens).
 */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly proxy: rds.DatabaseProxy;
  readonly secret: secretsmanager.ISecret;
  readonly parameterGroup: rds.ParameterGroup;
  readonly maxConnections: number;
  /** The exported logs' groups, by log type. */
  readonly logGroups: Record<(typeof POSTGRES_LOG_EXPORTS)[number], logs.LogGroup>;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const engine = rds.DatabaseInstanceEngine.postgres({ version: POSTGRES_VERSION });
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    this.maxConnections = estimatedMaxConnections(props.instanceType);

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'Precog PostgreSQL 16: TLS required for every connection',
      parameters: { 'rds.force_ssl': '1' },
    });

    const instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'Precog RDS PostgreSQL: reachable from the RDS Proxy only',
      allowAllOutbound: false,
    });
    const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: props.vpc,
      description: 'Precog RDS Proxy: reachable from the functions, connects to the database only',
      allowAllOutbound: false,
    });

    // RDS writes an exported log to /aws/rds/instance/<id>/<type>, creating the group if it does
    // not exist (then kept forever). The identifier is fixed so that the groups can be created
    // first, with their retention, and the instance made to wait for them (no race with RDS, no
    // LogRetention custom resource). Destroyed with the stack: a retained group of a fixed name
    // would block the next deploy of the same stack.
    const instanceIdentifier = `${Stack.of(this).stackName.toLowerCase()}-postgres`;
    this.logGroups = Object.fromEntries(POSTGRES_LOG_EXPORTS.map((type) => {
      const group = new logs.LogGroup(this, type === 'postgresql' ? 'PostgresLog' : 'UpgradeLog', {
        logGroupName: `/aws/rds/instance/${instanceIdentifier}/${type}`,
        retention: LOG_RETENTION,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      acknowledge(group, guardFindings('cloudwatch_log_group_encrypted_check'));
      return [type, group];
    })) as Database['logGroups'];

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new ec2.InstanceType(props.instanceType),
      vpc: props.vpc,
      vpcSubnets: isolated,
      securityGroups: [instanceSecurityGroup],
      publiclyAccessible: false,
      multiAz: props.multiAz,
      databaseName: 'precog',
      credentials: rds.Credentials.fromGeneratedSecret('precog'),
      parameterGroup: this.parameterGroup,
      storageType: rds.StorageType.GP3,
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      storageEncrypted: true,
      backupRetention: Duration.days(30),
      preferredBackupWindow: '07:00-08:00',
      preferredMaintenanceWindow: 'tue:08:30-tue:09:30',
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      // Off on a first deploy: CloudFormation cannot delete a protected instance, so a failed
      // creation would end in ROLLBACK_FAILED. The final snapshot covers a rollback's delete.
      deletionProtection: props.deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      // The server log (errors, slow statements, connection failures) and upgrade logs in
      // CloudWatch Logs, into the groups created above with their retention.
      instanceIdentifier,
      cloudwatchLogsExports: [...POSTGRES_LOG_EXPORTS],
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    for (const group of Object.values(this.logGroups)) this.instance.node.addDependency(group);
    this.secret = this.instance.secret!;

    this.proxy = this.instance.addProxy('Proxy', {
      // Proxy names are unique per account and region: one per stack.
      dbProxyName: `${Stack.of(this).stackName.toLowerCase()}-db-proxy`,
      secrets: [this.secret],
      vpc: props.vpc,
      vpcSubnets: isolated,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      iamAuth: false,
      // Lambda pools keep idle clients for 60 s; the proxy closes what they forget.
      idleClientTimeout: Duration.minutes(15),
      maxConnectionsPercent: 90,
      borrowTimeout: Duration.seconds(30),
      debugLogging: false,
    });

    // Functions → proxy, PostgreSQL only (the rule opens both sides: ingress here, egress on the
    // functions' group). Proxy → instance is opened by addProxy itself on the instance's port.
    this.proxy.connections.allowFrom(props.clientSecurityGroup, ec2.Port.tcp(5432), 'Precog functions to the RDS Proxy');

    acknowledge(this.instance, {
      'AwsSolutions-RDS3':
        'Single-AZ by default to keep a personal trading stack affordable (Multi-AZ doubles the instance cost); 30 days of automated backups and a final snapshot cover recovery, and -c multiAz=true turns the standby on.',
      'AwsSolutions-RDS11':
        'The default port 5432 is kept on purpose: the RDS Proxy listens on 5432 for PostgreSQL and the functions connect to it with the port from the generated secret, so a non-default instance port would break them; the instance is in isolated subnets and only the proxy security group may reach it.',
    });
    acknowledge(this.instance, guardFindings(
      'rds_instance_enhanced_monitoring_enabled_check', 'rds_instance_no_default_ports_check',
      'rds_storage_encrypted_kms_key_check', 'rds_instance_iam_authentication_enabled_check',
    ));
    if (!props.multiAz) acknowledge(this.instance, guardFindings('rds_instance_multi_az_support_check'));
    if (!props.deletionProtection) {
      acknowledge(this.instance, {
        ...guardFindings('rds_instance_deletion_protection_enabled_check'),
        'AwsSolutions-RDS10':
          'Deletion protection follows the databaseDeletionProtection setting: off for the first deploy so that a failed creation rolls back cleanly (a protected instance ends it in ROLLBACK_FAILED); docs/deploy.md has the operator switch it on once the stack exists. RemovalPolicy SNAPSHOT keeps a final snapshot meanwhile.',
      });
    }
    // The generated secret itself (instance.secret is its attachment to the instance).
    acknowledge(this.instance.node.findChild('Secret'), {
      'AwsSolutions-SMG4':
        'No automatic rotation: each function container caches its pool configuration (shared/db/pool.ts) and the RDS Proxy reads the secret itself, so a rotation would fail warm containers until they recycle; rotate by hand in a maintenance window (docs/deploy.md).',
    });
  }
}
