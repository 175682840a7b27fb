import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  /** Security group of the clients (the functions): allowed to the proxy, nothing else. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** Instance class without `db.` (t4g.small). */
  readonly instanceType: string;
  readonly multiAz: boolean;
}

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
 * group, 30 days of automated backups, deletion protection and a final snapshot; credentials
 * generated into Secrets Manager; an RDS Proxy in front that the functions reach with the same
 * secret over TLS (no IAM database tokens).
 */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly proxy: rds.DatabaseProxy;
  readonly secret: secretsmanager.ISecret;
  readonly parameterGroup: rds.ParameterGroup;
  readonly maxConnections: number;

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
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
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
    // The generated secret itself (instance.secret is its attachment to the instance).
    acknowledge(this.instance.node.findChild('Secret'), {
      'AwsSolutions-SMG4':
        'No automatic rotation: each function container caches its pool configuration (shared/db/pool.ts) and the RDS Proxy reads the secret itself, so a rotation would fail warm containers until they recycle; rotate by hand in a maintenance window (README, Deploy).',
    });
  }
}
