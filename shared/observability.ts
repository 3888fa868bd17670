import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { TxRecord } from './protocol';

/**
 * Tandem's metrics, as CloudWatch embedded metric format (EMF) log lines through Powertools. The
 * only dimension is the service (`api`, `coordinator`, `ledger-0`, …): a transaction id is never a
 * dimension (it would create a metric per transaction); it goes into the structured logs instead.
 */
const METRICS_NAMESPACE = 'Tandem';

export const METRIC = {
  started: 'TransactionsStarted',
  committed: 'TransactionsCommitted',
  aborted: 'TransactionsAborted',
  /** Creation → decision. */
  preparePhase: 'PreparePhaseMs',
  /** Decision → last acknowledgement. */
  completionPhase: 'CompletionPhaseMs',
  /** Creation → terminal. */
  latency: 'TransactionLatencyMs',
  /** Messages received more than once (SQS redeliveries after a failure or a timeout). */
  redeliveries: 'Redeliveries',
  /** Poison messages a handler moved to its DLQ. */
  dlqArrivals: 'DlqArrivals',
  /** Age of the oldest transaction the sweeper found overdue (0 when none). */
  oldestInDoubtAge: 'OldestInDoubtAgeMs',
  /** Sends or publications that failed after a durable change (recovery re-drives them). */
  effectFailures: 'EffectFailures',
  /** Writes DynamoDB refused for a conflict with another transaction (retried after a backoff). */
  writeConflicts: 'WriteConflicts',
  /** Writes DynamoDB throttled past the SDK's retries (retried after a backoff). */
  writeThrottles: 'WriteThrottles',
} as const;

/** Counts a write refused by contention (a ContentionError's reason). */
export function recordContention(metrics: Metrics, reason: 'conflict' | 'throttle'): void {
  metrics.addMetric(
    reason === 'conflict' ? METRIC.writeConflicts : METRIC.writeThrottles,
    MetricUnit.Count,
    1,
  );
}

export function createMetrics(service: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, defaultDimensions: { service } });
}

/** Records the outcome and the phase latencies of a transaction that just became terminal. */
export function recordTerminal(metrics: Metrics, record: TxRecord): void {
  metrics.addMetric(record.state === 'COMMITTED' ? METRIC.committed : METRIC.aborted, MetricUnit.Count, 1);
  if (record.decidedAtMs !== null) {
    metrics.addMetric(METRIC.preparePhase, MetricUnit.Milliseconds, record.decidedAtMs - record.createdAtMs);
    if (record.completedAtMs !== null) {
      metrics.addMetric(
        METRIC.completionPhase,
        MetricUnit.Milliseconds,
        record.completedAtMs - record.decidedAtMs,
      );
    }
  }
  if (record.completedAtMs !== null) {
    metrics.addMetric(METRIC.latency, MetricUnit.Milliseconds, record.completedAtMs - record.createdAtMs);
  }
}

/** Flushes what a handler recorded; a handler that recorded nothing writes nothing. */
export function flush(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

export { MetricUnit };
