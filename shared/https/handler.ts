import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sqsClient } from '../adapters/aws-clients';
import { SqsTransport } from '../adapters/sqs-transport';
import { InvocationPacing } from '../backoff';
import { envInt, envString } from '../env';
import { ConfigurationError } from '../errors';
import { instruments, sqsBatchHandler } from '../lambda/middleware';
import { MetricUnit } from '../observability';
import { inboxRecordHandler } from '../participant/inbox';
import type { Clock } from '../ports';
import { FetchHttp, hmacSigner, NO_SIGNER, type SecretSource, sigV4CallSigner } from './adapters';
import type { CallSigner, RelayAttempt } from './relay';
import { relayMessage } from './relay';
import {
  parseRelayConfig,
  RELAY_CONFIG_ENV,
  RELAY_METRIC,
  type RelayAuth,
  SECRET_MAX_AGE_S,
} from './relay-config';

/** A Lambda handler of an HTTPS participant's inbox (SQS, partial batch responses). */
export type RelayLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The relay function of an HTTPS participant: it consumes the participant's inbox as a Lambda
 * participant does (records of a batch in parallel, partial batch failures, a malformed message
 * straight to the DLQ with its error) and relays each message to the endpoint (shared/https/relay.ts),
 * sending the Vote or Ack to the coordinator's queue.
 *
 * Environment (set by infra/constructs/https-participant.ts, read on the first invocation):
 * PARTICIPANT_ID, PARTICIPANT_DLQ_URL, MAX_RECEIVE_COUNT, COORDINATOR_QUEUE_URL, SLOT_COUNT and
 * RELAY_CONFIG (shared/https/relay-config.ts).
 */
export function relayHandler(): RelayLambdaHandler {
  let wired: RelayLambdaHandler | undefined;
  return (event, context) => {
    wired ??= wire(process.env);
    return wired(event, context);
  };
}

function wire(env: NodeJS.ProcessEnv): RelayLambdaHandler {
  const participantId = envString(env, 'PARTICIPANT_ID');
  const { settings, auth } = parseRelayConfig(env[RELAY_CONFIG_ENV]);
  const relay = instruments(participantId);
  const { logger, metrics } = relay;
  const clock: Clock = { nowMs: Date.now };
  const sqs = sqsClient();
  const transport = new SqsTransport(
    sqs,
    { coordinatorQueueUrl: envString(env, 'COORDINATOR_QUEUE_URL'), slotCount: envInt(env, 'SLOT_COUNT', 1) },
    clock,
  );
  const pacing = new InvocationPacing(clock);
  const http = new FetchHttp();
  const signer = signerOf(auth, env);

  const onRecord = inboxRecordHandler({
    participantId,
    env,
    sqs,
    logger,
    metrics,
    process: async (message, _receiveCount, log) => {
      const outcome = await relayMessage(message, settings, {
        http,
        signer,
        clock,
        pacing,
        replies: { send: (reply, slot) => transport.reply(reply, slot) },
        onAttempt: (attempt) => recordAttempt(metrics, log, attempt),
      });
      if (outcome.kind === 'gave-up') {
        // The message is done: the coordinator re-sends it until the endpoint answers (a try: until
        // the prepare timeout aborts the transaction).
        metrics.addMetric(RELAY_METRIC.giveUps(outcome.phase), MetricUnit.Count, 1);
        if (outcome.phase !== 'try') metrics.addMetric(RELAY_METRIC.finishGiveUps, MetricUnit.Count, 1);
        log.warn(`${outcome.phase} given up on; the coordinator will send it again`, {
          phase: outcome.phase,
          attempts: outcome.attempts,
          reason: outcome.reason,
        });
      }
    },
  });

  return sqsBatchHandler(relay, onRecord, { pacing });
}

function recordAttempt(metrics: Metrics, log: Logger, attempt: RelayAttempt): void {
  const { phase, verdict } = attempt;
  metrics.addMetric(RELAY_METRIC.attempts(phase), MetricUnit.Count, 1);
  metrics.addMetric(RELAY_METRIC.latency(phase), MetricUnit.Milliseconds, attempt.elapsedMs);
  if (verdict.kind === 'retry' && verdict.violation) {
    metrics.addMetric(RELAY_METRIC.violations, MetricUnit.Count, 1);
    log.warn('the endpoint broke the contract; calling again later', { phase, reason: verdict.reason });
  } else if (verdict.kind === 'retry') {
    log.info('call not done; calling again later', {
      phase,
      attempt: attempt.attempt,
      reason: verdict.reason,
    });
  }
}

function signerOf(auth: RelayAuth, env: NodeJS.ProcessEnv): CallSigner {
  switch (auth.type) {
    case 'hmac':
      return hmacSigner(secretsManagerSource(auth.secretArn));
    case 'sigv4': {
      const region = auth.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
      if (!region) throw new ConfigurationError('auth sigv4 needs a region (AWS_REGION is not set)');
      return sigV4CallSigner({ service: auth.service, region, credentials: functionCredentials() });
    }
    case 'none':
      return NO_SIGNER;
  }
}

/** The secret's AWSCURRENT version, through Powertools (cached SECRET_MAX_AGE_S). */
function secretsManagerSource(secretArn: string): SecretSource {
  const provider = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) });
  return {
    current: async () => {
      const value = await provider.get(secretArn, { maxAge: SECRET_MAX_AGE_S });
      if (typeof value !== 'string' || value === '') {
        throw new ConfigurationError(`secret ${secretArn} has no string value`);
      }
      return value;
    },
  };
}

/** The function's own credentials (the runtime's environment), loaded once and refreshed by the SDK. */
function functionCredentials() {
  let provider: Promise<
    () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>
  >;
  return async () => {
    provider ??= import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) => defaultProvider());
    return (await provider)();
  };
}
