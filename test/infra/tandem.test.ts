import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { Tandem, type TandemProps } from '../../infra/tandem';
import { LEDGER_COUNTER } from '../../shared/ledger/participant';
import { decodeSpecs } from '../../shared/registry';

// The public construct as a team uses it in its own stack: a counter of Tandem's and a participant
// of the team's own, and the mistakes that must fail the synth with a message saying what to change.

const seats = {
  operation: z.strictObject({ action: z.literal('book'), flight: z.string(), seat: z.string() }),
  itemKey: ['flight', 'seat'],
};

function teamStack(props: TandemProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Team', { env: { account: '111122223333', region: 'eu-west-1' } });
  const tandem = new Tandem(stack, 'Tandem', { removalPolicy: RemovalPolicy.DESTROY, ...props });
  const seatsFn = new lambda.Function(stack, 'SeatsFn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(20),
  });
  return { app, stack, tandem, seatsFn };
}

const synthOf = (stack: Stack) => Template.fromStack(stack);

describe('Tandem in a team stack', () => {
  it("wires the team's own participant function: its environment, its inbox, the protocol's grants", () => {
    const { stack, tandem, seatsFn } = teamStack();
    tandem.addParticipant('ledger', { counter: LEDGER_COUNTER, shards: 2 });
    const added = tandem.addParticipant('seats', { definition: seats, handler: seatsFn });
    expect(added.shards.map((s) => s.participantId)).toEqual(['seats']);
    const template = synthOf(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 20,
      Environment: {
        Variables: Match.objectLike({
          PARTICIPANT_ID: 'seats',
          PARTICIPANT_KIND: 'seats',
          PARTICIPANT_TABLE: Match.anyValue(),
          COORDINATOR_QUEUE_URL: Match.anyValue(),
          TRANSACTIONS_TABLE: Match.anyValue(),
          MAX_RECEIVE_COUNT: '5',
        }),
      },
    });
    // Its inbox is held 6 × its 20 s timeout, and feeds it with partial batch responses.
    const inbox = added.shards[0]!.inbox.queue.node.defaultChild as sqs.CfnQueue;
    expect(stack.resolve(inbox.visibilityTimeout)).toBe(120);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: stack.getLogicalId(seatsFn.node.defaultChild as lambda.CfnFunction) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it("registers every participant's operation schema with the API, compressed", () => {
    const { stack, tandem, seatsFn } = teamStack();
    tandem.addParticipant('seats', { definition: seats, handler: seatsFn });
    tandem.addParticipant('ledger', { counter: LEDGER_COUNTER, shards: 2 });
    const api = tandem.apiFunction!.fn.node.defaultChild as lambda.CfnFunction;
    const variables = (stack.resolve(api.environment) as { variables: Record<string, string> }).variables;
    const specs = decodeSpecs(variables.TANDEM_PARTICIPANTS!) as Array<{ name: string; operation: unknown }>;
    expect(specs.map((s) => s.name)).toEqual(['seats', 'ledger']);
    expect(specs[0]?.operation).toMatchObject({ required: ['action', 'flight', 'seat'] });
  });

  it('grants submitting and reading through the API, and routes outcomes to a target', () => {
    const { stack, tandem, seatsFn } = teamStack();
    tandem.addParticipant('seats', { definition: seats, handler: seatsFn });
    const checkout = new lambda.Function(stack, 'Checkout', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    tandem.grantSubmit(checkout);
    tandem.grantRead(checkout);
    const queue = new sqs.Queue(stack, 'Outcomes');
    tandem.onOutcome(
      'Aborted',
      { bind: () => ({ arn: queue.queueArn }) },
      { outcome: 'ABORTED', participant: 'seats' },
    );
    const template = synthOf(stack);
    // Exactly the routes each grant names: submitting both ways, reading a transaction.
    const invokable = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => statement.Action === 'execute-api:Invoke')
      .flatMap((statement) => statement.Resource)
      .map((arn) =>
        JSON.stringify(arn)
          .match(/\/\$default\/(\w+)(\/[^"]*)/)
          ?.slice(1)
          .join(' '),
      );
    expect(invokable.sort()).toEqual(['GET /transactions/*', 'POST /transactions', 'POST /transfers']);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['tandem'],
        'detail-type': ['TransactionAborted'],
        detail: { participants: { kind: ['seats'] } },
      },
    });
  });

  it('makes no API with api: false, and then refuses grants and routes through it', () => {
    const { stack, tandem, seatsFn } = teamStack({ api: false });
    tandem.addParticipant('seats', { definition: seats, handler: seatsFn });
    expect(tandem.api).toBeUndefined();
    synthOf(stack).resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    expect(() => tandem.grantSubmit(seatsFn)).toThrow(
      /there is no API to grant access to \(the construct was made with api: false\)/,
    );
    expect(() => tandem.addApiRoute('GET /reports', new HttpLambdaIntegration('Reports', seatsFn))).toThrow(
      /there is no API to add a route to/,
    );
  });

  it('adds a route of your own behind the stage authorizer', () => {
    const { stack, tandem, seatsFn } = teamStack();
    tandem.addParticipant('seats', { definition: seats, handler: seatsFn });
    tandem.addApiRoute('GET /reports/{id}', new HttpLambdaIntegration('Reports', seatsFn));
    synthOf(stack).hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /reports/{id}',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('warns on synth when the API has no auth', () => {
    const { stack, tandem, seatsFn } = teamStack({ api: { auth: { type: 'none' } } });
    tandem.addParticipant('seats', { definition: seats, handler: seatsFn });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('the API has no auth'));
  });
});

describe('Tandem refuses props that cannot work, saying what to change', () => {
  it.each([
    [
      'a duplicate participant',
      (t: Tandem, fn: lambda.Function) => {
        t.addParticipant('seats', { definition: seats, handler: fn });
        t.addParticipant('seats', { definition: seats, handler: fn });
      },
      "participant 'seats' is added twice: give each participant its own name",
    ],
    [
      'a participant without a schema',
      (t: Tandem, fn: lambda.Function) => t.addParticipant('seats', { handler: fn }),
      "participant 'seats' needs either `counter` (Tandem's built-in counter) or `definition` and `handler` (your own), not neither",
    ],
    [
      'a definition without its function',
      (t: Tandem) => t.addParticipant('seats', { definition: seats }),
      "participant 'seats' has a definition but no handler",
    ],
    [
      'a counter with a function',
      (t: Tandem, fn: lambda.Function) =>
        t.addParticipant('ledger', { counter: LEDGER_COUNTER, handler: fn }),
      "participant 'ledger' is a counter, which runs Tandem's own function: leave out handler",
    ],
    [
      'a bad name',
      (t: Tandem, fn: lambda.Function) => t.addParticipant('Seats', { definition: seats, handler: fn }),
      "participant name 'Seats' must be 1–48 characters",
    ],
    [
      'shards of one function',
      (t: Tandem, fn: lambda.Function) =>
        t.addParticipant('seats', { definition: seats, handler: fn, shards: 2, shardKey: 'flight' }),
      'has 2 shards but one function: give handler as (shard) => function, one per shard',
    ],
    [
      'a shard key that is no field',
      (t: Tandem, fn: lambda.Function) =>
        t.addParticipant('seats', { definition: seats, handler: () => fn, shards: 2, shardKey: 'row' }),
      "'row' is not a field of its operations",
    ],
    [
      'a counter that cannot work',
      (t: Tandem) => t.addParticipant('ledger', { counter: { ...LEDGER_COUNTER, actions: {} } }),
      "participant 'ledger' counter is invalid: actions: must name at least one action",
    ],
  ] as const)('%s', (_name, act, message) => {
    const { tandem, seatsFn } = teamStack();
    expect(() => act(tandem, seatsFn)).toThrow(message);
  });

  it.each([
    [
      { api: { auth: { type: 'jwt', issuer: 'http://issuer', audience: ['a'] } } },
      "api auth 'jwt' needs an https issuer and at least one audience",
    ],
    [
      { api: { auth: { type: 'jwt', issuer: 'https://issuer', audience: [] } } },
      "api auth 'jwt' needs an https issuer and at least one audience",
    ],
    [{ slots: 0 }, 'slots must be an integer from 1 to 1024, got 0'],
    [
      { timings: { resendBase: Duration.seconds(10), resendCap: Duration.seconds(5) } },
      'timings.resendCap must be ≥ resendBase',
    ],
    [
      { api: { corsOrigins: ['app.example.com'] } },
      "corsOrigins must list origins like https://app.example.com, got 'app.example.com'",
    ],
  ] as Array<[TandemProps, string]>)('props %j', (props, message) => {
    expect(() => teamStack(props)).toThrow(message);
  });

  it('fails the synth of a Tandem without participants', () => {
    const { app } = teamStack();
    expect(() => app.synth()).toThrow(/Tandem has no participants: add at least one with addParticipant\(\)/);
  });
});
