import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PHASES } from '../../shared/https/contract';
import { DEFAULT_RELAY_RETRY } from '../../shared/https/relay';
import {
  isLoopbackHost,
  RELAY_CONFIG_ENV,
  RELAY_METRIC,
  type RelayAuth,
  type RelayConfig,
  sigV4TargetOf,
} from '../../shared/https/relay-config';
import type { Coordinator } from './coordinator';
import { METRICS_NAMESPACE } from './monitoring';
import { addNagSuppressions } from './nag';
import { NodeFunction, VISIBILITY_TIMEOUT_FACTOR } from './node-function';
import { SecureQueue } from './secure-queue';

/** How the relay proves itself to the endpoint. */
export type HttpsAuth =
  /** HMAC (`tandem-signature`) with a secret of Secrets Manager: yours, or one generated here. The default. */
  | { readonly hmac: { readonly secret?: secretsmanager.ISecret } }
  /**
   * AWS SigV4 with the relay function's role (grant it `execute-api:Invoke` or
   * `lambda:InvokeFunctionUrl` on your endpoint). The service is read from the URL (API Gateway or
   * a Lambda function URL) unless given.
   */
  | 'sigv4'
  | { readonly sigv4: { readonly service?: 'execute-api' | 'lambda'; readonly region?: string } }
  /** No authentication: for a loopback endpoint in tests only. */
  | 'none';

/** An HTTPS participant's endpoint: the team's service speaking the try/confirm/cancel contract. */
export interface HttpsEndpoint {
  /** Base URL; `/try`, `/confirm` and `/cancel` are appended. `https://` (plain `http://` on loopback only). */
  readonly url: string;
  /** Default: HMAC with a secret generated for this participant. */
  readonly auth?: HttpsAuth;
  /** Each call's timeout (default 5 s). */
  readonly timeout?: Duration;
  /** Waits between calls of one message: capped exponential with full jitter (defaults 200 ms, 5 s, 5 calls). */
  readonly retry?: { readonly base?: Duration; readonly cap?: Duration; readonly attempts?: number };
  /**
   * Time one message may take, calls and waits together (default 30 s). A message still undone
   * then waits for the coordinator's next re-send (a try: until the prepare timeout aborts).
   */
  readonly budget?: Duration;
  /** Alarm when this many confirms or cancels are given up on in 5 minutes (default 1). */
  readonly alarmAfter?: number;
}

export interface HttpsParticipantProps {
  readonly participantId: string;
  readonly endpoint: HttpsEndpoint;
  readonly coordinator: Coordinator;
  readonly removalPolicy: RemovalPolicy;
  /** Customer-managed key for the generated secret (Tandem's tables key); the AWS-managed key when absent. */
  readonly encryptionKey?: kms.IKey;
}

/** Time the relay function has on top of one message's budget (sending the reply, cold start). */
const RELAY_MARGIN = Duration.seconds(10);
/** The alarm's period for confirm/cancel give-ups. */
const GIVE_UPS_PERIOD = Duration.minutes(5);

/**
 * A participant that is the team's HTTPS service (try / confirm / cancel, shared/https/contract.ts):
 * its inbox queue with a DLQ, and Tandem's relay function, which turns each message of the inbox
 * into a call of the endpoint and the answer into the vote or ack the coordinator waits for. With
 * HMAC auth, `secret` is the shared secret the endpoint verifies with (generated here unless
 * given): read it to configure the endpoint, rotate it by putting a new value (the endpoint
 * accepts AWSPREVIOUS too while the relay's cache turns over).
 */
export class HttpsParticipant extends Construct {
  readonly participantId: string;
  readonly inbox: SecureQueue;
  readonly relay: NodeFunction;
  /** The HMAC secret (absent with sigv4 or none). */
  readonly secret: secretsmanager.ISecret | undefined;
  /** Confirms and cancels given up on, summed per GIVE_UPS_PERIOD. */
  readonly finishGiveUps: cloudwatch.IMetric;
  readonly alarmAfter: number;

  constructor(scope: Construct, id: string, props: HttpsParticipantProps) {
    super(scope, id);
    const { participantId, endpoint } = props;
    const fail: (what: string) => never = (what) => {
      throw new Error(`Tandem: HTTPS participant '${participantId}': ${what}`);
    };
    this.participantId = participantId;
    const url = checkedUrl(endpoint.url, fail);
    const timeout = endpoint.timeout ?? Duration.seconds(5);
    const budget = endpoint.budget ?? Duration.seconds(30);
    const retry = {
      baseMs: endpoint.retry?.base?.toMilliseconds() ?? DEFAULT_RELAY_RETRY.baseMs,
      capMs: endpoint.retry?.cap?.toMilliseconds() ?? DEFAULT_RELAY_RETRY.capMs,
      attemptsMax: endpoint.retry?.attempts ?? DEFAULT_RELAY_RETRY.attemptsMax,
    };
    const timeoutMs = timeout.toMilliseconds();
    const budgetMs = budget.toMilliseconds();
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)
      fail(`timeout must be from 100 ms to 60 s, got ${timeoutMs} ms`);
    if (!Number.isInteger(budgetMs) || budgetMs < timeoutMs || budgetMs > 600_000)
      fail(`budget must be from the call timeout (${timeoutMs} ms) to 10 minutes, got ${budgetMs} ms`);
    if (!Number.isInteger(retry.baseMs) || retry.baseMs < 1 || retry.capMs < retry.baseMs)
      fail(`retry needs 1 ms ≤ base ≤ cap, got base ${retry.baseMs} ms and cap ${retry.capMs} ms`);
    if (!Number.isInteger(retry.attemptsMax) || retry.attemptsMax < 1 || retry.attemptsMax > 100)
      fail(`retry.attempts must be an integer from 1 to 100, got ${retry.attemptsMax}`);
    this.alarmAfter = endpoint.alarmAfter ?? 1;
    if (!Number.isInteger(this.alarmAfter) || this.alarmAfter < 1)
      fail(`alarmAfter must be a positive integer, got ${this.alarmAfter}`);

    const auth = endpoint.auth ?? { hmac: {} };
    let relayAuth: RelayAuth;
    if (auth === 'none') {
      if (!isLoopbackHost(url.hostname))
        fail(`auth 'none' is only for a loopback endpoint in tests, not ${url.host}: use hmac or sigv4`);
      this.secret = undefined;
      relayAuth = { type: 'none' };
    } else if (auth === 'sigv4' || 'sigv4' in auth) {
      const given = auth === 'sigv4' ? {} : auth.sigv4;
      const implied = sigV4TargetOf(url.href);
      const service = given.service ?? implied?.service;
      if (service !== 'execute-api' && service !== 'lambda') {
        fail(
          `auth sigv4 cannot tell the service from ${url.host}: give { sigv4: { service: 'execute-api' | 'lambda' } }`,
        );
      }
      const region = given.region ?? implied?.region;
      this.secret = undefined;
      relayAuth = { type: 'sigv4', service, ...(region ? { region } : {}) };
    } else if ('hmac' in auth) {
      this.secret =
        auth.hmac.secret ??
        new secretsmanager.Secret(this, 'Secret', {
          description: `Tandem: HMAC secret the relay signs ${participantId}'s calls with`,
          generateSecretString: { passwordLength: 48, excludePunctuation: true },
          removalPolicy: props.removalPolicy,
          ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
        });
      if (this.secret instanceof secretsmanager.Secret) {
        addNagSuppressions(this.secret, [
          {
            id: 'AwsSolutions-SMG4',
            reason:
              'The secret is shared with the team endpoint, which must take the new value too: the team rotates it (the endpoint accepts AWSPREVIOUS meanwhile).',
          },
        ]);
      }
      relayAuth = { type: 'hmac', secretArn: this.secret.secretArn };
    } else {
      fail("auth must be { hmac: { secret? } }, 'sigv4', { sigv4: { service } } or 'none'");
    }

    const config: RelayConfig = {
      settings: { baseUrl: url.href, timeoutMs, retry, budgetMs },
      auth: relayAuth,
    };
    const fnTimeout = Duration.millis(budgetMs + RELAY_MARGIN.toMilliseconds());
    const fnTimeoutS = Math.ceil(fnTimeout.toSeconds({ integral: false }));
    this.inbox = new SecureQueue(this, 'Inbox', {
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * fnTimeoutS),
      removalPolicy: props.removalPolicy,
    });
    this.relay = new NodeFunction(this, 'Relay', {
      code: 'relay',
      description: `Tandem relay of the HTTPS participant ${participantId} (${url.origin})`,
      timeout: Duration.seconds(fnTimeoutS),
      removalPolicy: props.removalPolicy,
      environment: {
        PARTICIPANT_ID: participantId,
        PARTICIPANT_DLQ_URL: this.inbox.dlq.queueUrl,
        MAX_RECEIVE_COUNT: String(this.inbox.maxReceiveCount),
        COORDINATOR_QUEUE_URL: props.coordinator.queue.queue.queueUrl,
        SLOT_COUNT: String(props.coordinator.slotCount),
        [RELAY_CONFIG_ENV]: JSON.stringify(config),
      },
    });
    this.relay.consume(this.inbox);
    this.secret?.grantRead(this.relay.role);
    props.coordinator.queue.queue.grantSendMessages(this.relay.role);
    this.inbox.dlq.grantSendMessages(this.relay.role);
    props.coordinator.addParticipant(participantId, this.inbox);

    this.finishGiveUps = this.metric(RELAY_METRIC.finishGiveUps);
  }

  /** One of the relay's metrics (RELAY_METRIC), summed per GIVE_UPS_PERIOD unless told otherwise. */
  metric(metricName: string, statistic = 'Sum', period = GIVE_UPS_PERIOD): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.participantId },
      statistic,
      period,
    });
  }

  /** The relay's graphs: calls and give-ups per phase, latency p99 per phase, violations. */
  widgets(): cloudwatch.IWidget[] {
    const minute = Duration.minutes(1);
    return [
      new cloudwatch.GraphWidget({
        title: `${this.participantId} (HTTPS): calls and give-ups`,
        left: PHASES.map((phase) => this.metric(RELAY_METRIC.attempts(phase), 'Sum', minute)),
        right: [
          ...PHASES.map((phase) => this.metric(RELAY_METRIC.giveUps(phase), 'Sum', minute)),
          this.metric(RELAY_METRIC.violations, 'Sum', minute),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: `${this.participantId} (HTTPS): call latency p99 (ms)`,
        left: PHASES.map((phase) => this.metric(RELAY_METRIC.latency(phase), 'p99', minute)),
        width: 12,
      }),
    ];
  }
}

function checkedUrl(raw: string, fail: (what: string) => never): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`url '${raw}' is not a URL`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    fail(`url '${raw}' is plain http: use https (plain http is allowed on a loopback host only, for tests)`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`url '${raw}' must be https`);
  if (url.username || url.password) fail(`url '${raw}' must not carry credentials: use auth`);
  if (url.search || url.hash)
    fail(`url '${raw}' must have no query or fragment: /try, /confirm, /cancel are appended to its path`);
  return url;
}
