import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { Tandem, type TandemProps } from '../../infra/tandem';
import { INVENTORY_COUNTER } from '../../shared/inventory/participant';
import { LEDGER_COUNTER } from '../../shared/ledger/participant';

// Intakes as a team adds them: events from a bus and a queue of requests, each a queue with a DLQ
// and an alarm, consumed by Tandem's intake function or the team's, granted what submitting needs.

function teamStack(props: TandemProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Team', { env: { account: '111122223333', region: 'eu-west-1' } });
  const tandem = new Tandem(stack, 'Tandem', { removalPolicy: RemovalPolicy.DESTROY, ...props });
  tandem.addParticipant('ledger', { counter: LEDGER_COUNTER, shards: 2 });
  return { stack, tandem };
}

const ref = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.getLogicalId(construct.node.defaultChild as never),
});
const arnOf = (stack: Stack, queue: sqs.IQueue) => ({
  'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as never), 'Arn'],
});

/** Every statement of the policies attached to `role`. */
function statementsOf(template: Template, stack: Stack, role: iam.IRole): Array<Record<string, unknown>> {
  const roleRef = stack.getLogicalId(role.node.defaultChild as never);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleRef}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
}
const actionsOn = (statements: Array<Record<string, unknown>>, resource: unknown) =>
  statements
    .filter((s) => JSON.stringify(s.Resource).includes(JSON.stringify(resource)))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);

describe('an event intake', () => {
  it("puts a rule on the account's default bus whose target is the intake's queue, its DLQ for undeliverable events", () => {
    // Prepare
    const { stack, tandem } = teamStack();

    // Act
    const intake = tandem.addEventIntake('orders', {
      eventPattern: { source: ['shop'], detailType: ['OrderPlaced'] },
    });

    // Assess
    const template = Template.fromStack(stack);
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { source: ['shop'], 'detail-type': ['OrderPlaced'] } },
    });
    const [rule] = Object.values(rules);
    expect(rule?.Properties.EventBusName).toBe('default');
    expect(rule?.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: arnOf(stack, intake.queue),
        DeadLetterConfig: { Arn: arnOf(stack, intake.inbox.dlq) },
      }),
    ]);
    // EventBridge may send to the queue, and only for this rule.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(stack, intake.queue)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
          }),
        ]),
      },
    });
    expect(intake.source).toBe('events:orders');
  });

  it("consumes the queue with Tandem's intake function, configured and granted as a producer, even for counters added later", () => {
    const { stack, tandem } = teamStack();
    const intake = tandem.addEventIntake('orders', {
      eventBus: new events.EventBus(Stack.of(tandem), 'Shop'),
      eventPattern: { source: ['shop'] },
      key: { field: 'detail.orderId' },
    });
    const inventory = tandem.addParticipant('inventory', { counter: INVENTORY_COUNTER });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^Shop') },
      EventPattern: { source: ['shop'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({
          INTAKE_ID: 'orders',
          INTAKE_KIND: 'events',
          INTAKE_KEY_FIELD: 'detail.orderId',
          INTAKE_DLQ_URL: ref(stack, intake.inbox.dlq),
          MAX_RECEIVE_COUNT: '5',
          TANDEM_PARTICIPANTS: Match.anyValue(),
          TRANSACTIONS_TABLE: Match.anyValue(),
          TIMER_QUEUE_URL: Match.anyValue(),
          ONE_PHASE: 'on',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(stack, intake.queue),
      FunctionName: ref(stack, intake.fn),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const statements = statementsOf(template, stack, intake.fn.role!);
    expect(actionsOn(statements, arnOf(stack, intake.inbox.dlq))).toContain('sqs:SendMessage');
    // A producer starts a transaction with a timer and Prepares; it never sends to the coordinator.
    expect(actionsOn(statements, arnOf(stack, tandem.coordinator.timers.queue))).toContain('sqs:SendMessage');
    expect(actionsOn(statements, arnOf(stack, tandem.coordinator.queue.queue))).toEqual([]);
    expect(
      actionsOn(statements, {
        'Fn::GetAtt': [stack.getLogicalId(tandem.coordinator.transactions.node.defaultChild as never), 'Arn'],
      }),
    ).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    for (const shard of [...tandem.participants[0]!.shards, ...inventory.shards]) {
      expect(
        actionsOn(statements, {
          'Fn::GetAtt': [stack.getLogicalId(shard.table.node.defaultChild as never), 'Arn'],
        }),
        shard.participantId,
      ).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem']));
    }
  });

  it("runs the team's mapping function: its environment, the queue held 6 × its timeout, its grants", () => {
    const { stack, tandem } = teamStack();
    const mapper = new lambda.Function(stack, 'Mapper', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
      timeout: Duration.seconds(15),
    });

    const intake = tandem.addEventIntake('orders', { eventPattern: { source: ['shop'] }, handler: mapper });

    const template = Template.fromStack(stack);
    expect(intake.fn).toBe(mapper);
    expect(intake.intakeFunction).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 15,
      Environment: { Variables: Match.objectLike({ INTAKE_ID: 'orders', INTAKE_KIND: 'events' }) },
    });
    expect(stack.resolve((intake.queue.node.defaultChild as sqs.CfnQueue).visibilityTimeout)).toBe(90);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: ref(stack, mapper),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(actionsOn(statementsOf(template, stack, mapper.role!), arnOf(stack, intake.inbox.dlq))).toContain(
      'sqs:SendMessage',
    );
  });

  it('alarms when its DLQ holds a message, and watches its function', () => {
    const { stack, tandem } = teamStack();
    const intake = tandem.addEventIntake('orders', { eventPattern: { source: ['shop'] } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [stack.getLogicalId(intake.inbox.dlq.node.defaultChild as never), 'QueueName'],
          },
        },
      ],
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('intake-orders dead-letter queue.*dlq show intake-orders'),
      AlarmActions: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmDescription: 'intake-orders function errors',
    });
  });
});

describe('a requests queue', () => {
  it('is a FIFO queue (and DLQ) senders are granted, consumed by the intake function', () => {
    const { stack, tandem } = teamStack({ api: false });
    const sender = new iam.Role(stack, 'Sender', { assumedBy: new iam.AccountRootPrincipal() });

    const queue = tandem.addRequestQueue('requests', { fifo: true });
    queue.grantSendMessages(sender);

    const template = Template.fromStack(stack);
    expect(queue.fifo).toBe(true);
    const intake = tandem.intakes[0]!;
    expect(intake.queue).toBe(queue);
    expect(intake.inbox.dlq.fifo).toBe(true);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INTAKE_ID: 'requests', INTAKE_KIND: 'queue' }) },
    });
    expect(actionsOn(statementsOf(template, stack, sender), arnOf(stack, queue))).toContain(
      'sqs:SendMessage',
    );
    template.resourceCountIs('AWS::Events::Rule', 1); // the sweeper's schedule only
  });

  it('is a standard queue keyed by a field of the request', () => {
    const { stack, tandem } = teamStack();
    const queue = tandem.addRequestQueue('requests', { key: { field: 'ref' } });
    expect(queue.fifo).toBe(false);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INTAKE_KIND: 'queue', INTAKE_KEY_FIELD: 'ref' }) },
    });
  });
});

describe("a team's function", () => {
  it('runs one intake, and no participant', () => {
    const { stack, tandem } = teamStack();
    const fn = (id: string) =>
      new lambda.Function(stack, id, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
      });
    const mapper = fn('Mapper');
    const seats = fn('Seats');
    tandem.addEventIntake('orders', { eventPattern: { source: ['shop'] }, handler: mapper });
    tandem.addParticipant('seats', {
      definition: { operation: z.strictObject({ seat: z.string() }), itemKey: ['seat'] },
      handler: seats,
    });

    expect(() =>
      tandem.addEventIntake('refunds', { eventPattern: { source: ['shop'] }, handler: mapper }),
    ).toThrow("event intake 'refunds' is given a function that already runs another intake or a participant");
    expect(() =>
      tandem.addEventIntake('seats', { eventPattern: { source: ['shop'] }, handler: seats }),
    ).toThrow('already runs another intake or a participant');
  });
});

describe('mistakes fail the synth with what to change', () => {
  const pattern = { source: ['shop'] };
  it.each([
    [
      'an id used twice',
      (t: Tandem) => {
        t.addEventIntake('orders', { eventPattern: pattern });
        t.addRequestQueue('orders');
      },
      "intake 'orders' is added twice",
    ],
    [
      'an event intake id used twice',
      (t: Tandem) => {
        t.addEventIntake('orders', { eventPattern: pattern });
        t.addEventIntake('orders', { eventPattern: { source: ['other'] } });
      },
      "intake 'orders' is added twice",
    ],
    [
      'an id that is not a name',
      (t: Tandem) => t.addRequestQueue('Orders_1'),
      "intake id 'Orders_1' must be",
    ],
    ['an empty id', (t: Tandem) => t.addEventIntake('', { eventPattern: pattern }), "intake id '' must be"],
    [
      'a FIFO queue with a key field',
      (t: Tandem) => t.addRequestQueue('requests', { fifo: true, key: { field: 'ref' } }),
      "is FIFO, whose key is each message's MessageDeduplicationId",
    ],
    [
      'a key field that is not a path',
      (t: Tandem) => t.addEventIntake('orders', { eventPattern: pattern, key: { field: 'detail..id' } }),
      "key.field 'detail..id' must be a dotted path",
    ],
    [
      'a key field with a space',
      (t: Tandem) => t.addRequestQueue('orders', { key: { field: 'order id' } }),
      "key.field 'order id' must be",
    ],
    [
      'an empty event pattern',
      (t: Tandem) => t.addEventIntake('orders', { eventPattern: {} }),
      'needs an eventPattern with at least one field',
    ],
  ])('%s', (_, add, message) => {
    const { tandem } = teamStack();
    expect(() => add(tandem)).toThrow(message);
  });
});
