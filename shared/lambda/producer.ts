import type { Pacing } from '../backoff';
import { METRIC, MetricUnit, recordContention, recordTerminal } from '../observability';
import type { ProducerHooks } from '../producer';
import type { Instruments } from './middleware';

/** A producer's hooks (the API's, an intake's) into its function's logs and metrics. */
export function observedProducer({ logger, metrics }: Instruments, pacing: Pacing): ProducerHooks {
  return {
    pacing,
    onCreated: () => metrics.addMetric(METRIC.started, MetricUnit.Count, 1),
    onTerminal: (record) => recordTerminal(metrics, record),
    onContention: (error) => recordContention(metrics, error.reason),
    onBeginFailed: (txId, error) =>
      logger.warn('could not send Prepare or its timer; the next check re-sends it', { txId, error }),
  };
}
