import { describe, expect, it } from 'vitest';
import { main } from '../../../shared/ops/cli';
import { ARRIVAL_MARGIN_MS, mergeRanges, rangeOfFailureRecord } from '../../../shared/ops/events';
import { ackOf, STACK, T0, tx, URL_BASE, vote, type World, world } from './fakes';

const EVENTS_DLQ_URL = `${URL_BASE}/Tandem-test-EventsOutDlq1A2B3C4D-9`;

/** A transaction that ended (COMMITTED) at `atMs`, or ABORTED with `vote: 'NO'`. */
function ended(txId: string, atMs: number, outcome: 'COMMITTED' | 'ABORTED' = 'COMMITTED') {
  const v = outcome === 'COMMITTED' ? 'YES' : 'NO';
  return tx(txId, atMs - 100, [
    vote('ledger-0', v, atMs - 50),
    vote('ledger-1', 'YES', atMs - 40),
    ackOf('ledger-0', outcome, atMs),
    ackOf('ledger-1', outcome, atMs),
  ]);
}

function eventsWorld(records: Parameters<typeof world>[0] = []): World {
  const w = world(records);
  Object.assign(w.stack.outputsByStack[STACK]!, {
    EventBusName: 'Tandem-test-Events',
    EventsDlqUrl: EVENTS_DLQ_URL,
  });
  w.queues.add(EVENTS_DLQ_URL);
  return w;
}

async function cli(argv: string[], w: World) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--stack', STACK], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { AWS_ENDPOINT_URL: 'http://x' },
    connect: () => w.deps,
  });
  return { code, stdout, stderr };
}

const failureRecord = (firstIso: string, lastIso: string) =>
  JSON.stringify({
    requestContext: { condition: 'MaxRecordAgeExceeded' },
    version: '1.0',
    DDBStreamBatchInfo: {
      shardId: 'shardId-1',
      startSequenceNumber: '100',
      endSequenceNumber: '200',
      approximateArrivalOfFirstRecord: firstIso,
      approximateArrivalOfLastRecord: lastIso,
      batchSize: 3,
    },
  });

describe('events republish', () => {
  it('puts again the outcomes of the transactions that ended in the last --since, with their usual event ids', async () => {
    const now = T0 + 10 * 3_600_000;
    const w = eventsWorld([
      ended('tx-recent', now - 60_000),
      ended('tx-no', now - 30_000, 'ABORTED'),
      ended('tx-old', now - 3 * 3_600_000),
      tx('tx-live', now - 1_000),
    ]);
    w.clock.now = now;

    const { code, stdout } = await cli(['events', 'republish', '--since', '2h'], w);

    expect(code).toBe(0);
    expect(w.bus.put.map((e) => e.eventId).sort()).toEqual(['tx-no/ABORTED', 'tx-recent/COMMITTED']);
    expect(w.bus.put.find((e) => e.txId === 'tx-no')?.reason).toMatch(/voted NO/);
    expect(stdout).toContain('Republished 2 of 2 outcome(s) (1 committed, 1 aborted).');
  });

  it('takes the ranges from the events DLQ, deletes what it handled and leaves what it cannot read', async () => {
    const at = Date.parse('2026-11-26T10:00:00Z');
    const w = eventsWorld([
      ended('tx-in', at + 30_000),
      ended('tx-edge', at - ARRIVAL_MARGIN_MS + 10),
      ended('tx-out', at + 600_000),
    ]);
    w.queues.put(EVENTS_DLQ_URL, failureRecord('2026-11-26T10:00:00Z', '2026-11-26T10:01:00Z'));
    w.queues.put(EVENTS_DLQ_URL, 'not a failure record');

    const { code, stdout } = await cli(['events', 'republish', '--from-dlq'], w);

    expect(code).toBe(0);
    expect(w.bus.put.map((e) => e.txId).sort()).toEqual(['tx-edge', 'tx-in']);
    expect(w.queues.bodies(EVENTS_DLQ_URL)).toEqual(['not a failure record']);
    expect(stdout).toContain('Deleted 1 handled message(s) from the events DLQ.');
    expect(stdout).toContain('left in the DLQ, not an on-failure record: not a failure record');
  });

  it('keeps the DLQ messages and exits 1 when an outcome could not be put', async () => {
    const at = Date.parse('2026-11-26T10:00:00Z');
    const w = eventsWorld([ended('tx-a', at + 1_000), ended('tx-b', at + 2_000)]);
    w.bus.refuse = ['tx-b/COMMITTED'];
    w.queues.put(EVENTS_DLQ_URL, failureRecord('2026-11-26T10:00:00Z', '2026-11-26T10:00:05Z'));

    const { code, stdout } = await cli(['events', 'republish', '--from-dlq'], w);

    expect(code).toBe(1);
    expect(stdout).toContain('Republished 1 of 2 outcome(s)');
    expect(stdout).toContain('not put: tx-b/COMMITTED: refused by the fake bus');
    expect(stdout).toContain('The DLQ messages were kept: run the command again.');
    expect(w.queues.bodies(EVENTS_DLQ_URL)).toHaveLength(1);
  });

  it('needs exactly one of --since and --from-dlq, and refuses a stack without events', async () => {
    const w = eventsWorld();
    expect((await cli(['events', 'republish'], w)).code).toBe(2);
    expect((await cli(['events', 'republish', '--since', '1h', '--from-dlq'], w)).stderr).toContain(
      'give exactly one of --since and --from-dlq',
    );
    expect((await cli(['events'], w)).stderr).toContain('events needs a subcommand: republish');
    const quiet = await cli(['events', 'republish', '--since', '1h'], world());
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain('announces no events (deployed with -c events=off)');
  });
});

describe('time ranges', () => {
  it('reads the arrival times of an on-failure record, widened by the margin, and nothing else', () => {
    expect(rangeOfFailureRecord(failureRecord('2026-11-26T10:00:00Z', '2026-11-26T10:00:02Z'))).toEqual({
      fromMs: Date.parse('2026-11-26T10:00:00Z') - ARRIVAL_MARGIN_MS,
      toMs: Date.parse('2026-11-26T10:00:02Z') + 999 + ARRIVAL_MARGIN_MS,
    });
    expect(rangeOfFailureRecord('{}')).toBeUndefined();
    expect(rangeOfFailureRecord('nope')).toBeUndefined();
    expect(
      rangeOfFailureRecord(failureRecord('2026-11-26T10:00:02Z', '2026-11-26T10:00:00Z')),
    ).toBeUndefined();
  });

  it('merges overlapping and touching ranges', () => {
    expect(
      mergeRanges([
        { fromMs: 10, toMs: 20 },
        { fromMs: 0, toMs: 5 },
        { fromMs: 15, toMs: 30 },
        { fromMs: 31, toMs: 40 },
        { fromMs: 50, toMs: 60 },
      ]),
    ).toEqual([
      { fromMs: 0, toMs: 5 },
      { fromMs: 10, toMs: 40 },
      { fromMs: 50, toMs: 60 },
    ]);
  });
});
