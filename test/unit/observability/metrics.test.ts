import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics, flush, METRIC, recordTerminal } from '../../../shared/observability';
import { newTransaction, type TxRecord } from '../../../shared/protocol';

const config = { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 };

function emitted(run: () => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args.join(' ')));
  try {
    run();
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('_aws'))
    .map((l) => JSON.parse(l));
}

describe('metrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('records a commit with its phase latencies, with the service as the only dimension', () => {
    const base = newTransaction(
      { txId: 'tx-m', slot: 0, participants: [{ id: 'p', kind: 'k', operations: [] }] },
      1_000,
      config,
    );
    const record: TxRecord = {
      ...base,
      state: 'COMMITTED',
      decidedAtMs: 1_250,
      completedAtMs: 1_400,
      nextCheckAtMs: null,
    };
    const metrics = createMetrics('coordinator');
    const [emf] = emitted(() => {
      recordTerminal(metrics, record);
      flush(metrics);
    });
    expect(emf).toMatchObject({
      service: 'coordinator',
      [METRIC.committed]: 1,
      [METRIC.preparePhase]: 250,
      [METRIC.completionPhase]: 150,
      [METRIC.latency]: 400,
    });
    const aws = emf!._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
    const directive = aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('Tandem');
    expect(directive.Dimensions).toEqual([['service']]);
    expect(JSON.stringify(emf)).not.toContain('tx-m');
  });

  it('writes nothing when nothing was recorded', () => {
    expect(emitted(() => flush(createMetrics('api')))).toEqual([]);
  });
});
