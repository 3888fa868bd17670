import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../infra/config';
import { TandemStack } from '../../infra/tandem-stack';
import { ROUTE_KEYS, ROUTES } from '../../shared/api/routes';
import { TERMINAL_CHANGE_FILTERS } from '../../shared/events';
import { synth } from '../support/synth';

const dev = synth();
const resourcesOf = (template: Template, type: string) => Object.entries(template.findResources(type));
interface Resource {
  readonly Type: string;
  readonly DependsOn?: string | string[];
}

describe('DynamoDB tables', () => {
  it('has the transaction log, the slot table, two ledger shards and the inventory', () => {
    dev.template.resourceCountIs('AWS::DynamoDB::Table', 5);
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'txId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAtS', Enabled: true },
    });
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'slot', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'slot', AttributeType: 'N' }],
    });
  });

  it('makes every table on-demand, encrypted and point-in-time recoverable', () => {
    for (const [id, table] of resourcesOf(dev.template, 'AWS::DynamoDB::Table')) {
      expect(table.Properties.BillingMode, id).toBe('PAY_PER_REQUEST');
      expect(table.Properties.SSESpecification, id).toEqual({ SSEEnabled: true });
      expect(table.Properties.PointInTimeRecoverySpecification, id).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
    }
  });

  it('scales the ledger with the ledgerShards setting', () => {
    synth({ ledgerShards: 3 }).template.resourceCountIs('AWS::DynamoDB::Table', 6);
  });

  it('retains and deletion-protects state in prod, and destroys it elsewhere', () => {
    const prod = synth({ stage: 'prod' }).template;
    for (const [id, table] of resourcesOf(prod, 'AWS::DynamoDB::Table')) {
      expect(table.DeletionPolicy, id).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled, id).toBe(true);
    }
    for (const [id, table] of resourcesOf(dev.template, 'AWS::DynamoDB::Table')) {
      expect(table.DeletionPolicy, id).toBe('Delete');
    }
  });
});

describe('SQS queues', () => {
  const queues = resourcesOf(dev.template, 'AWS::SQS::Queue');
  const isDlq = (id: string) => id.includes('Dlq');

  it('has a FIFO coordinator queue, a standard timer queue and one inbox per participant', () => {
    expect(
      queues
        .filter(([id]) => !isDlq(id))
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual([
      'CoordinatorInboxQueue',
      'CoordinatorTimersQueue',
      'IntakeRequestsInboxQueue',
      'IntakeTransfersInboxQueue',
      'InventoryInboxQueue',
      'Ledger0InboxQueue',
      'Ledger1InboxQueue',
      'PaymentsInboxQueue',
    ]);
    dev.template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
    });
  });

  it("runs the coordinator's FIFO queue in high-throughput mode, and only it", () => {
    // A default FIFO queue takes 300 SendMessage calls/s: ~75 transfers/s (docs/model.md).
    const highThroughput = queues
      .filter(([, q]) => q.Properties.FifoThroughputLimit !== undefined)
      .map(([id, q]) => [
        id.replace(/[0-9A-F]{8}$/, ''),
        q.Properties.FifoThroughputLimit,
        q.Properties.DeduplicationScope,
      ]);
    expect(highThroughput).toEqual([['CoordinatorInboxQueue', 'perMessageGroupId', 'messageGroup']]);
  });

  it('gives every queue a dead-letter queue of the same kind', () => {
    const main = queues.filter(([id]) => !isDlq(id));
    for (const [id, queue] of main) {
      const redrive = queue.Properties.RedrivePolicy;
      expect(redrive, id).toBeDefined();
      expect(redrive.maxReceiveCount, id).toBeGreaterThan(1);
      const dlqId = redrive.deadLetterTargetArn['Fn::GetAtt'][0] as string;
      expect(isDlq(dlqId), id).toBe(true);
      expect(dev.template.toJSON().Resources[dlqId].Properties.FifoQueue, id).toBe(
        queue.Properties.FifoQueue,
      );
    }
  });

  it("keeps every consumed queue's visibility timeout at 6 × its consumer's timeout or more", () => {
    const resources = dev.template.toJSON().Resources;
    const mappings = resourcesOf(dev.template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => m.Properties.EventSourceArn['Fn::GetAtt']?.[1] === 'Arn' && !m.Properties.StartingPosition,
    );
    expect(mappings.length).toBeGreaterThanOrEqual(5); // coordinator, timers, three participants
    for (const [id, mapping] of mappings) {
      const queue = resources[mapping.Properties.EventSourceArn['Fn::GetAtt'][0]];
      const fn = resources[mapping.Properties.FunctionName.Ref];
      expect(queue.Properties.VisibilityTimeout, id).toBeGreaterThanOrEqual(6 * fn.Properties.Timeout);
    }
  });

  it('encrypts every queue and every DLQ at rest', () => {
    for (const [id, queue] of queues) expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
  });

  it('denies non-TLS access to every queue', () => {
    const policies = resourcesOf(dev.template, 'AWS::SQS::QueuePolicy');
    const covered = new Set<string>();
    for (const [, policy] of policies) {
      const denies = policy.Properties.PolicyDocument.Statement.filter(
        (s: { Effect: string; Condition?: unknown }) =>
          s.Effect === 'Deny' &&
          JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
      );
      if (denies.length > 0) for (const q of policy.Properties.Queues) covered.add(q.Ref);
    }
    expect([...covered].sort()).toEqual(queues.map(([id]) => id).sort());
  });
});

describe('Lambda functions', () => {
  it('run Node.js 22 on arm64 with tracing, JSON logs and a log group with retention', () => {
    const functions = resourcesOf(dev.template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime, id).toBe('nodejs22.x');
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(fn.Properties.LoggingConfig.LogFormat, id).toBe('JSON');
      expect(fn.Properties.LoggingConfig.LogGroup, id).toBeDefined();
    }
    for (const [id, group] of resourcesOf(dev.template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays, id).toBeGreaterThan(0);
    }
  });

  it('use no AWS managed policies (each role writes only to its own log group)', () => {
    for (const [id, role] of resourcesOf(dev.template, 'AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });
});

describe('HTTP API', () => {
  it('is an HTTP API with payload format 2.0, access logs and throttling', () => {
    dev.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '2.0' });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
    });
  });

  it('has exactly the routes of the route table, and $default', () => {
    const routes = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route').map(
      ([, r]) => r.Properties.RouteKey,
    );
    expect(routes.sort()).toEqual([...ROUTE_KEYS, '$default'].sort());
  });

  it('signs every route but /health, /openapi.json and $default with IAM by default', () => {
    const routes = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => [
      r.Properties.RouteKey,
      r.Properties.AuthorizationType ?? 'NONE',
    ]);
    const unsigned = routes.filter(([, type]) => type === 'NONE').map(([key]) => key);
    expect(unsigned.sort()).toEqual(['$default', 'GET /health', 'GET /openapi.json']);
    expect(Object.fromEntries(routes)).toEqual({
      ...Object.fromEntries(ROUTE_KEYS.map((key) => [key, ROUTES[key].public ? 'NONE' : 'AWS_IAM'])),
      $default: 'NONE',
    });
  });

  it('sends every request no route matches to the API function, which knows the stage auth', () => {
    // One integration (the API function's) behind every route, $default included.
    const routes = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey)).toContain('$default');
    expect(new Set(routes.map((r) => JSON.stringify(r.Target))).size).toBe(1);
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Tandem HTTP API (producer)',
      Environment: { Variables: Match.objectLike({ API_AUTH: 'iam' }) },
    });
  });

  it('has no auth only on the local stage with apiAuth=none', () => {
    const local = synth({ stage: 'local', apiAuth: 'none' }).template;
    for (const [, route] of resourcesOf(local, 'AWS::ApiGatewayV2::Route')) {
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    }
    local.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Tandem HTTP API (producer)',
      Environment: { Variables: Match.objectLike({ API_AUTH: 'none' }) },
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['dev', {}],
    ['prod', { stage: 'prod' }],
    ['local', { stage: 'local', apiAuth: 'none' }],
  ])('finds no unsuppressed error or warning in the %s stack', (_name, context) => {
    const { stack } = synth(context);
    const findings = [
      ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('(AwsSolutions|Serverless)-.*')),
      ...Annotations.fromStack(stack).findWarning(
        '*',
        Match.stringLikeRegexp('(AwsSolutions|Serverless)-.*'),
      ),
    ].map((f) => `${f.id}: ${String(f.entry.data).split('\n')[0]}`);
    expect(findings).toEqual([]);
  });

  it('actually runs (a queue without a DLQ is flagged)', async () => {
    const { Queue } = await import('aws-cdk-lib/aws-sqs');
    const app = new App();
    const stack = new TandemStack(app, 'Probe', { config: readConfig(app.node) });
    new Queue(stack, 'Naked');
    Aspects.of(app).add(new AwsSolutionsChecks());
    app.synth();
    const ids = Annotations.fromStack(stack)
      .findError('*', Match.stringLikeRegexp('AwsSolutions-SQS3'))
      .map((f) => f.id);
    expect(ids).toEqual(['/Probe/Naked/Resource']);
  });
});

describe('coordinator side', () => {
  it('indexes live transactions by slot and next check time for the sweeper', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'due',
          KeySchema: [
            { AttributeName: 'slot', KeyType: 'HASH' },
            { AttributeName: 'nextCheckAtMs', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('consumes every queue with partial batch responses', () => {
    const mappings = resourcesOf(dev.template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => !JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'),
    );
    // coordinator, timers, two ledger shards, inventory, the payments relay, the event intake and
    // the requests queue
    expect(mappings).toHaveLength(8);
    for (const [id, mapping] of mappings) {
      expect(mapping.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('runs the sweeper every minute', () => {
    dev.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('tells every Lambda participant where the transaction records are, for its notes', () => {
    // (An HTTPS participant's relay notes nothing: its replies go by the coordinator's queue alone.)
    const participants = resourcesOf(dev.template, 'AWS::Lambda::Function').filter(
      ([, fn]) => fn.Properties.Environment?.Variables?.PARTICIPANT_TABLE !== undefined,
    );
    expect(participants.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'InventoryHandlerFn',
      'Ledger0HandlerFn',
      'Ledger1HandlerFn',
    ]);
    for (const [id, fn] of participants) {
      expect(fn.Properties.Environment.Variables.TRANSACTIONS_TABLE, id).toEqual({
        Ref: expect.stringMatching(/^CoordinatorTransactionsTable[0-9A-F]{8}$/),
      });
    }
  });

  it('tells the coordinator where every participant inbox is', () => {
    const coordinator = resourcesOf(dev.template, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('CoordinatorCoordinatorFn'),
    );
    const queues = JSON.stringify(coordinator?.[1].Properties.Environment.Variables.PARTICIPANT_QUEUES);
    for (const [participant, queue] of [
      ['ledger-0', 'Ledger0InboxQueue'],
      ['ledger-1', 'Ledger1InboxQueue'],
      ['inventory', 'InventoryInboxQueue'],
      ['payments', 'PaymentsInboxQueue'],
    ]) {
      expect(queues).toMatch(new RegExp(`\\\\"${participant}\\\\":\\\\"",\\{"Ref":"${queue}`));
    }
  });
});

describe('deploy guard', () => {
  const guards = (template: Template) => resourcesOf(template, 'Custom::TandemDeployGuard');

  it('holds the shard count and every participant id, and answers within minutes', () => {
    expect(guards(dev.template).map(([, g]) => g.Properties)).toEqual([
      {
        ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^DeployGuardFn[0-9A-F]{8}$/), 'Arn'] },
        ServiceTimeout: '300',
        Shards: { ledger: '2' },
        Participants: ['inventory', 'ledger-0', 'ledger-1', 'payments'],
      },
    ]);
    expect(guards(synth({ ledgerShards: 3 }).template).map(([, g]) => g.Properties)).toEqual([
      expect.objectContaining({
        Shards: { ledger: '3' },
        Participants: ['inventory', 'ledger-0', 'ledger-1', 'ledger-2', 'payments'],
      }),
    ]);
  });

  it.each([
    ['dev', {}],
    ['prod', { stage: 'prod', tableKms: 'customer' }],
    ['local bench', { stage: 'local', apiAuth: 'none', bench: 'on', faults: 'on' }],
  ])(
    'is answered before any other resource of the %s stack is created, updated or deleted',
    (_name, context) => {
      const resources = Object.entries(
        synth(context).template.toJSON().Resources as Record<string, Resource>,
      );
      const guardId = resources.find(([, r]) => r.Type === 'Custom::TandemDeployGuard')?.[0];
      expect(guardId).toBeDefined();
      // The guard's own function, role, policy and log group; CDK's metadata, added after the stack.
      const own = /^(DeployGuard|CDKMetadata)/;
      const unguarded = resources
        .filter(([id, r]) => !own.test(id) && ![r.DependsOn ?? []].flat().includes(guardId ?? ''))
        .map(([id]) => id);
      expect(unguarded).toEqual([]);
      expect(
        resources
          .filter(([id]) => own.test(id) && id !== 'CDKMetadata')
          .map(([, r]) => r.Type)
          .sort(),
      ).toEqual([
        'AWS::IAM::Policy',
        'AWS::IAM::Role',
        'AWS::Lambda::Function',
        'AWS::Logs::LogGroup',
        'Custom::TandemDeployGuard',
      ]);
    },
  );
});

describe('fault injection', () => {
  const faultsTableOf = (template: Template) =>
    resourcesOf(template, 'AWS::DynamoDB::Table').filter(([id]) => id.startsWith('Faults'));
  const functionsReadingFaults = (template: Template) =>
    resourcesOf(template, 'AWS::Lambda::Function').filter(
      ([, fn]) => fn.Properties.Environment?.Variables?.FAULTS_TABLE,
    );

  it('is absent from the default synth: no Faults table, no handler that reads fault plans', () => {
    expect(faultsTableOf(dev.template)).toEqual([]);
    expect(functionsReadingFaults(dev.template)).toEqual([]);
    expect(JSON.stringify(dev.template.toJSON())).not.toContain('FAULTS_TABLE');
  });

  it('is provisioned for every protocol handler when faults=on', () => {
    const faulty = synth({ stage: 'local', apiAuth: 'none', faults: 'on' }).template;
    expect(faultsTableOf(faulty)).toHaveLength(1);
    // coordinator, timers, sweeper, two ledger shards, inventory
    expect(functionsReadingFaults(faulty)).toHaveLength(6);
  });

  it('is refused in prod', () => {
    expect(() => synth({ stage: 'prod', faults: 'on' })).toThrow(/faults/);
  });
});

describe('bench deployment', () => {
  const metered = (template: Template) =>
    resourcesOf(template, 'AWS::Lambda::Function').filter(
      ([, fn]) => fn.Properties.Environment?.Variables?.TANDEM_METER === 'on',
    );

  it('is absent from the default synth: no metering, no baselines', () => {
    expect(metered(dev.template)).toEqual([]);
    expect(JSON.stringify(dev.template.toJSON())).not.toContain('/bench/');
  });

  it('meters every function and adds the baselines and their route when bench=on', () => {
    const template = synth({ stage: 'local', apiAuth: 'none', bench: 'on' }).template;
    const functions = resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('AWS'));
    expect(metered(template).length).toBe(functions.length);
    expect(functions.map(([id]) => id).filter((id) => id.startsWith('Bench'))).toHaveLength(2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /bench/direct-transfers' });
    const signed = synth({ bench: 'on' }).template;
    signed.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /bench/direct-transfers',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('is refused in prod', () => {
    expect(() => synth({ stage: 'prod', bench: 'on' })).toThrow(/bench/);
  });
});

describe('events out', () => {
  const putters = (template: Template) =>
    Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('events:PutEvents'),
    );

  const buses = (template: Template) =>
    Object.keys(template.findResources('AWS::Events::EventBus'))
      .map((id) => id.replace(/[0-9A-F]{8}$/, ''))
      .sort();

  it('has an event bus only the events function may put events on', () => {
    // Besides the stack's own bus of requests, which its event intake listens to.
    expect(buses(dev.template)).toEqual(['Events', 'RequestsBus']);
    const found = putters(dev.template);
    expect(found.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'EventsOutFnRoleDefaultPolicy',
    ]);
    for (const [, policy] of found) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toMatch(
        /"Fn::GetAtt":\["Events[0-9A-F]{8}","Arn"\]/,
      );
    }
  });

  it('announces outcomes from the transactions stream: terminal changes only, failed batches retried (halved), given up after 12 h into a DLQ', () => {
    const [[, table]] = resourcesOf(dev.template, 'AWS::DynamoDB::Table').filter(([id]) =>
      id.startsWith('CoordinatorTransactions'),
    ) as [[string, { Properties: Record<string, unknown> }]];
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const [[, mapping]] = resourcesOf(dev.template, 'AWS::Lambda::EventSourceMapping').filter(([, m]) =>
      JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'),
    ) as [[string, { Properties: Record<string, unknown> }]];
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 12 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^EventsOutDlq/), 'Arn'] } },
      },
    });
    const patterns = (mapping.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map(
      (f) => JSON.parse(f.Pattern),
    );
    expect(patterns).toEqual(TERMINAL_CHANGE_FILTERS);
  });

  it('has no bus, no stream, no PutEvents grant and no publisher with events=off', () => {
    const quiet = synth({ events: 'off' }).template;
    expect(buses(quiet)).toEqual(['RequestsBus']);
    expect(putters(quiet)).toEqual([]);
    expect(JSON.stringify(quiet.toJSON())).not.toContain('EVENT_BUS_NAME');
    expect(JSON.stringify(quiet.toJSON())).not.toContain('StreamSpecification');
    expect(() => synth({ events: 'sometimes' })).toThrow(/events/);
  });

  it('lets the API write entities only when the one-phase path is on', () => {
    const apiPolicy = (template: Template) =>
      JSON.stringify(
        Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) =>
          id.startsWith('ApiRoleDefaultPolicy'),
        )?.[1],
      );
    expect(apiPolicy(dev.template)).toContain('dynamodb:UpdateItem');
    const twoPhaseOnly = synth({ onePhase: 'off' }).template;
    expect(twoPhaseOnly.toJSON().Resources).toBeDefined();
    const fn = Object.values(twoPhaseOnly.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.Environment?.Variables?.ONE_PHASE !== undefined,
    );
    expect(fn?.Properties.Environment.Variables.ONE_PHASE).toBe('off');
    expect(() => synth({ onePhase: 'maybe' })).toThrow(/onePhase/);
  });
});

describe('observability', () => {
  const alarms = resourcesOf(dev.template, 'AWS::CloudWatch::Alarm');
  const topicId = resourcesOf(dev.template, 'AWS::SNS::Topic')[0]?.[0];

  it('alarms on every DLQ, every function error and throttle, and transactions in doubt, all to one topic', () => {
    const dlqs = resourcesOf(dev.template, 'AWS::SQS::Queue').filter(([id]) => id.includes('Dlq'));
    const functions = resourcesOf(dev.template, 'AWS::Lambda::Function');
    const byMetric = (name: string) => alarms.filter(([, a]) => a.Properties.MetricName === name);
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toHaveLength(dlqs.length);
    for (const [id] of dlqs) {
      expect(
        byMetric('ApproximateNumberOfMessagesVisible').some(([, a]) =>
          JSON.stringify(a.Properties.Dimensions).includes(id),
        ),
        id,
      ).toBe(true);
    }
    expect(byMetric('Errors')).toHaveLength(functions.length);
    expect(byMetric('Throttles')).toHaveLength(functions.length);
    expect(byMetric('OldestInDoubtAgeMs')).toHaveLength(1);
    expect(byMetric('IteratorAge')).toHaveLength(1);
    expect(topicId).toBeDefined();
    for (const [id, alarm] of alarms) expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
  });

  it('encrypts the alarm topic and refuses plain-text publishing', () => {
    dev.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    dev.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('has a dashboard, and outputs for it, the alarm topic, the API URL and the protocol queues', () => {
    dev.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const outputs = Object.keys(dev.template.toJSON().Outputs);
    const queues = ['CoordinatorQueueUrl', 'TimerQueueUrl', 'ParticipantQueues'];
    for (const name of ['ApiUrl', 'DashboardName', 'AlarmTopicArn', 'EventBusName', ...queues])
      expect(outputs).toContain(name);
  });
});

describe('API security options', () => {
  it('uses a JWT authorizer when asked, with issuer and audience from context', () => {
    const { template } = synth({
      apiAuth: 'jwt',
      jwtIssuer: 'https://id.example.com',
      jwtAudience: 'tandem,ops',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://id.example.com', Audience: ['tandem', 'ops'] },
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    // All but /health, /openapi.json and $default.
    expect(routes.filter((r) => r.Properties.AuthorizationType === 'JWT')).toHaveLength(routes.length - 3);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Tandem HTTP API (producer)',
      Environment: {
        Variables: Match.objectLike({
          API_AUTH: 'jwt',
          API_JWT_ISSUER: 'https://id.example.com',
          API_JWT_AUDIENCE: 'tandem,ops',
        }),
      },
    });
  });

  it.each([
    [{ apiAuth: 'jwt' }, /jwtIssuer/],
    [{ apiAuth: 'jwt', jwtIssuer: 'http://plain.example.com', jwtAudience: 'a' }, /https/],
    [{ corsOrigins: 'not a url' }, /corsOrigins/],
    [{ tableKms: 'mine' }, /tableKms/],
  ])('refuses %o', (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });

  it('sends no CORS headers unless origins are configured', () => {
    expect(
      dev.template.toJSON().Resources[resourcesOf(dev.template, 'AWS::ApiGatewayV2::Api')[0]![0]].Properties
        .CorsConfiguration,
    ).toBeUndefined();
    synth({ corsOrigins: 'https://app.example.com' }).template.hasResourceProperties(
      'AWS::ApiGatewayV2::Api',
      {
        CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://app.example.com'] }),
      },
    );
  });

  it('throttles write routes harder than the stage', () => {
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike({
        'POST /transfers': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      }),
    });
  });

  it('encrypts every table with a rotated customer-managed key when asked, and lets each function use it', () => {
    const { template } = synth({ tableKms: 'customer' });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const [id, table] of Object.entries(template.findResources('AWS::DynamoDB::Table'))) {
      if (id.startsWith('Faults')) continue;
      expect(table.Properties.SSESpecification, id).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    }
    const coordinatorPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) =>
      id.startsWith('CoordinatorCoordinatorFnRole'),
    )?.[1];
    expect(JSON.stringify(coordinatorPolicy)).toMatch(/kms:Decrypt/);
  });
});
