import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { HttpsEndpoint } from '../../infra/constructs/https-participant';
import { type AddParticipantOptions, Tandem } from '../../infra/tandem';
import { LEDGER_COUNTER } from '../../shared/ledger/participant';
import { decodeSpecs } from '../../shared/registry';
import { synth } from '../support/synth';

// An HTTPS participant as a team adds it: its inbox, Tandem's relay function, the HMAC secret, the
// grants and alarms — and the props that must fail the synth with a message saying what to change.

const payments = {
  operation: z.strictObject({ action: z.literal('charge'), cardId: z.string(), amount: z.number().int() }),
  itemKey: ['cardId'],
};

function teamStack() {
  const app = new App();
  const stack = new Stack(app, 'Team', { env: { account: '111122223333', region: 'eu-west-1' } });
  const tandem = new Tandem(stack, 'Tandem', { removalPolicy: RemovalPolicy.DESTROY });
  tandem.addParticipant('ledger', { counter: LEDGER_COUNTER });
  return { app, stack, tandem };
}

function withPayments(https: HttpsEndpoint) {
  const team = teamStack();
  const added = team.tandem.addParticipant('payments', { definition: payments, https });
  return { ...team, added, template: Template.fromStack(team.stack) };
}

const relayOf = (template: Template) => {
  const [fn] = Object.values(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { PARTICIPANT_ID: 'payments' } } },
    }),
  ) as Array<{ Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } } }>;
  return fn!;
};

const configOf = (template: Template) =>
  JSON.parse(JSON.stringify(relayOf(template).Properties.Environment.Variables.RELAY_CONFIG));

describe('an HTTPS participant', () => {
  it('gets an inbox with a DLQ, the relay function consuming it, and its operation schema registered', () => {
    // Act
    const { stack, tandem, added, template } = withPayments({
      url: 'https://pay.example.com/tandem',
      timeout: Duration.seconds(3),
      retry: { base: Duration.millis(100), cap: Duration.seconds(2), attempts: 4 },
      budget: Duration.seconds(20),
    });

    // Assess: the relay's timeout is the budget and a margin; its inbox is held 6 × that
    expect(added.shards).toEqual([]);
    expect(added.https?.participantId).toBe('payments');
    const relay = relayOf(template);
    expect(relay.Properties.Timeout).toBe(30);
    const inbox = added.https!.inbox.queue.node.defaultChild as sqs.CfnQueue;
    expect(stack.resolve(inbox.visibilityTimeout)).toBe(180);
    expect(stack.resolve(inbox.redrivePolicy)).toMatchObject({ maxReceiveCount: 5 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: {
        Ref: stack.getLogicalId(added.https!.relay.fn.node.defaultChild as lambda.CfnFunction),
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    expect(relay.Properties.Environment.Variables).toMatchObject({
      PARTICIPANT_ID: 'payments',
      PARTICIPANT_DLQ_URL: expect.anything(),
      COORDINATOR_QUEUE_URL: expect.anything(),
      SLOT_COUNT: '64',
      MAX_RECEIVE_COUNT: '5',
    });
    // Its settings, in one JSON variable (the secret's ARN is a token until deploy)
    const config = stack.resolve(relay.Properties.Environment.Variables.RELAY_CONFIG);
    expect(JSON.stringify(config)).toContain(
      '\\"settings\\":{\\"baseUrl\\":\\"https://pay.example.com/tandem\\",\\"timeoutMs\\":3000,\\"retry\\":{\\"baseMs\\":100,\\"capMs\\":2000,\\"attemptsMax\\":4},\\"budgetMs\\":20000}',
    );
    expect(JSON.stringify(config)).toContain('\\"auth\\":{\\"type\\":\\"hmac\\",\\"secretArn\\":\\"');
    // The API validates its operations; the coordinator knows its inbox
    const api = tandem.apiFunction!.fn.node.defaultChild as lambda.CfnFunction;
    const variables = (stack.resolve(api.environment) as { variables: Record<string, string> }).variables;
    const specs = decodeSpecs(variables.TANDEM_PARTICIPANTS!) as Array<{ name: string; itemKey?: string[] }>;
    expect(specs.map((s) => s.name)).toEqual(['ledger', 'payments']);
    expect(specs[1]?.itemKey).toEqual(['cardId']);
    const coordinator = tandem.coordinator.coordinatorFn.fn.node.defaultChild as lambda.CfnFunction;
    expect(JSON.stringify(stack.resolve(coordinator.environment))).toContain('\\"payments\\":\\"');
  });

  it('generates an HMAC secret the relay may read, and may send only to the coordinator and its own DLQ', () => {
    const { stack, added, template } = withPayments({ url: 'https://pay.example.com' });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    expect(added.https!.secret).toBeDefined();
    const secretId = stack.getLogicalId(added.https!.secret!.node.defaultChild as secretsmanager.CfnSecret);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    const role = stack.getLogicalId(added.https!.relay.role.node.defaultChild as never);
    const relayPolicy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p).includes(`"Ref":"${role}"`),
    );
    const statements = JSON.stringify(relayPolicy);
    expect(statements).toContain('secretsmanager:GetSecretValue');
    expect(statements).toContain(`"Ref":"${secretId}"`);
    expect(statements).toContain('sqs:SendMessage');
    expect(statements).not.toContain('dynamodb:');
    expect(policies).toBeTruthy();
  });

  it("encrypts the generated secret with Tandem's customer-managed key when it has one", () => {
    const app = new App();
    const stack = new Stack(app, 'Team', { env: { account: '111122223333', region: 'eu-west-1' } });
    const tandem = new Tandem(stack, 'Tandem', {
      removalPolicy: RemovalPolicy.DESTROY,
      encryption: 'customer-managed',
    });
    tandem.addParticipant('payments', { definition: payments, https: { url: 'https://pay.example.com' } });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TandemTablesKey'), 'Arn'] },
    });
  });

  it("uses the team's own secret when given, and generates none", () => {
    const team = teamStack();
    const secret = new secretsmanager.Secret(team.stack, 'TeamSecret');
    const added = team.tandem.addParticipant('payments', {
      definition: payments,
      https: { url: 'https://pay.example.com', auth: { hmac: { secret } } },
    });
    const template = Template.fromStack(team.stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(added.https!.secret).toBe(secret);
    expect(JSON.stringify(team.stack.resolve(configOf(template)))).toContain(
      team.stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret),
    );
  });

  it.each([
    ['https://abc123.execute-api.eu-west-1.amazonaws.com/prod', 'sigv4' as const, 'execute-api', 'eu-west-1'],
    ['https://xyz.lambda-url.us-east-2.on.aws/', 'sigv4' as const, 'lambda', 'us-east-2'],
    ['https://pay.example.com', { sigv4: { service: 'lambda' as const } }, 'lambda', undefined],
  ])('signs with SigV4 for %s, the service from the URL or the setting', (url, auth, service, region) => {
    const { template } = withPayments({ url, auth });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.parse(configOf(template)).auth).toEqual({
      type: 'sigv4',
      service,
      ...(region ? { region } : {}),
    });
  });

  it('allows plain http and auth none on a loopback host (tests)', () => {
    const { template } = withPayments({ url: 'http://127.0.0.1:8790/payments', auth: 'none' });
    expect(JSON.parse(configOf(template))).toMatchObject({
      settings: { baseUrl: 'http://127.0.0.1:8790/payments' },
      auth: { type: 'none' },
    });
  });

  it('alarms on its inbox, DLQ and relay, and when confirms or cancels given up on reach alarmAfter', () => {
    const { tandem, template } = withPayments({ url: 'https://pay.example.com', alarmAfter: 3 });
    const alarms = tandem.monitoring.alarms.map((a) => a.node.id);
    expect(alarms).toEqual(
      expect.arrayContaining([
        'paymentsDlqNotEmpty',
        'paymentsErrors',
        'paymentsThrottles',
        'paymentsRelayGiveUps',
      ]),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      MetricName: 'HttpsFinishGiveUps',
      Namespace: 'Tandem',
      Dimensions: [{ Name: 'service', Value: 'payments' }],
      Period: 300,
      Statistic: 'Sum',
    });
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toContain('payments (HTTPS): calls and give-ups');
    expect(dashboard).toContain('HttpsTryLatencyMs');
  });
});

describe('an HTTPS participant with props that cannot work', () => {
  const https = (endpoint: Partial<HttpsEndpoint>): AddParticipantOptions => ({
    definition: payments,
    https: { url: 'https://pay.example.com', ...endpoint },
  });
  it.each<[string, AddParticipantOptions, RegExp]>([
    ['a URL that is none', https({ url: 'pay.example.com' }), /url 'pay\.example\.com' is not a URL/],
    [
      'plain http off loopback',
      https({ url: 'http://pay.example.com' }),
      /plain http: use https \(plain http is allowed on a loopback host only, for tests\)/,
    ],
    ['another scheme', https({ url: 'ftp://pay.example.com' }), /must be https/],
    ['a query', https({ url: 'https://pay.example.com/?a=1' }), /must have no query or fragment/],
    ['credentials in the URL', https({ url: 'https://u:p@pay.example.com' }), /must not carry credentials/],
    [
      'auth none off loopback',
      https({ auth: 'none' }),
      /auth 'none' is only for a loopback endpoint in tests/,
    ],
    [
      'sigv4 with no service to tell',
      https({ auth: 'sigv4' }),
      /auth sigv4 cannot tell the service from pay\.example\.com/,
    ],
    [
      'a budget under the call timeout',
      https({ timeout: Duration.seconds(10), budget: Duration.seconds(5) }),
      /budget must be from the call timeout \(10000 ms\) to 10 minutes, got 5000 ms/,
    ],
    ['a timeout too short', https({ timeout: Duration.millis(10) }), /timeout must be from 100 ms to 60 s/],
    ['zero attempts', https({ retry: { attempts: 0 } }), /retry\.attempts must be an integer from 1 to 100/],
    [
      'a cap under the base',
      https({ retry: { base: Duration.seconds(2), cap: Duration.seconds(1) } }),
      /retry needs 1 ms ≤ base ≤ cap/,
    ],
    ['alarmAfter 0', https({ alarmAfter: 0 }), /alarmAfter must be a positive integer/],
    [
      'shards',
      { ...https({}), shards: 2, shardKey: 'cardId' },
      /is an HTTPS participant, which has no shards: leave out shards and shardKey/,
    ],
    [
      'https for a counter',
      { counter: LEDGER_COUNTER, https: { url: 'https://pay.example.com' } },
      /is a counter, which runs Tandem's own function: leave out https/,
    ],
    ['https without a definition', { https: { url: 'https://pay.example.com' } }, /needs either `counter`/],
  ])('refuses %s', (_what, options, message) => {
    const { tandem } = teamStack();
    expect(() => tandem.addParticipant('payments', options)).toThrow(message);
  });

  it('refuses both a handler and https, and a definition with neither', () => {
    const { stack, tandem } = teamStack();
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    expect(() =>
      tandem.addParticipant('payments', {
        definition: payments,
        handler: fn,
        https: { url: 'https://pay.example.com' },
      }),
    ).toThrow(
      /has both a handler and https: give handler for a Lambda participant, or https for an HTTPS one/,
    );
    expect(() => tandem.addParticipant('payments', { definition: payments })).toThrow(
      /has a definition but no handler: .*or https for an HTTPS participant/,
    );
  });
});

describe("the app's payment service", () => {
  it('is an HTTPS participant on loopback at the port of -c paymentsPort, signed with its generated secret', () => {
    const { template } = synth({ stage: 'local', apiAuth: 'none', paymentsPort: '4321' });
    const config = JSON.stringify(relayOf(template).Properties.Environment.Variables.RELAY_CONFIG);
    expect(config).toContain('\\"baseUrl\\":\\"http://127.0.0.1:4321/payments\\"');
    expect(config).toContain('\\"type\\":\\"hmac\\"');
    expect(template.findOutputs('PaymentsUrl')).toMatchObject({
      PaymentsUrl: { Value: 'http://127.0.0.1:4321/payments' },
    });
    expect(Object.keys(template.findOutputs('PaymentsSecretArn'))).toEqual(['PaymentsSecretArn']);
  });
});
