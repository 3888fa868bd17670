import { describe, expect, it } from 'vitest';
import { renderLinePlot } from '../../dev/bench/plot';
import { usageOf } from '../../sim/cost';
import { accountsByShard } from '../../sim/load';
import { type CurvePoint, kneeSentence, type ModelSummary } from '../../sim/model';
import { Prng, Zipf } from '../../sim/prng';
import { AWS } from '../../sim/profile';
import { runTimed } from '../../sim/world';

/** A short, cheap open-loop run of the aws profile. */
const smallRun = (load: { perS: number; participants?: number; onePhase?: boolean; zipfS?: number }) =>
  runTimed({
    seed: 3,
    traceAll: true,
    timed: {
      profile: AWS,
      load: { kind: 'open', ...load },
      durationMs: 1_000,
      warmupMs: 0,
      accounts: 100,
      slotCount: 8,
    },
  });

describe('the Zipf sampler', () => {
  it('draws each rank at its share of the law', () => {
    // Prepare
    const zipf = new Zipf(500, 1);
    const rng = new Prng(7);
    const counts = new Array<number>(500).fill(0);
    // Act
    for (let draw = 0; draw < 100_000; draw++) counts[zipf.draw(rng)]!++;
    // Assess: rank 1 of 500 at s = 1 has 1 / H(500) ≈ 14.7 % of the draws, rank 2 half that.
    expect(zipf.share(0)).toBeCloseTo(1 / 6.7928, 3);
    expect(counts[0]! / 100_000).toBeCloseTo(zipf.share(0), 2);
    expect(counts[1]! / 100_000).toBeCloseTo(zipf.share(0) / 2, 2);
    expect(counts[9]! / 100_000).toBeCloseTo(zipf.share(0) / 10, 2);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(100_000);
  });

  it('is uniform at s = 0', () => {
    const zipf = new Zipf(4, 0);
    const rng = new Prng(1);
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 40_000; draw++) counts[zipf.draw(rng)]!++;
    for (const n of counts) expect(n / 40_000).toBeCloseTo(0.25, 1);
  });

  it("skews a run's debits toward the first account of shard 0", async () => {
    // Act
    const { result } = await smallRun({ perS: 50, zipfS: 1.2 });
    // Assess: each Prepare to ledger-0 names the account it debits.
    expect(result.violations).toEqual([]);
    const debited = result.trace.flatMap(
      (line) =>
        /"type":"Prepare".*"participantId":"ledger-0".*"accountId":"(acct-\d+)".*\(receive 1\)/
          .exec(line)
          ?.slice(1) ?? [],
    );
    const [zero] = accountsByShard(100, 2) as [string[]];
    const top = debited.filter((id) => id === zero[0]).length / debited.length;
    expect(debited.length).toBeGreaterThan(30);
    expect(top).toBeGreaterThan(new Zipf(zero.length, 1.2).share(0) / 2); // uniform: 1 / zero.length
    expect(1 / zero.length).toBeLessThan(new Zipf(zero.length, 1.2).share(0) / 4);
  });
});

describe('the timed load', () => {
  it('sends every transfer to as many participants as it asks for', async () => {
    // Act
    const { result, times, requests } = await smallRun({ perS: 20, participants: 4 });
    // Assess: a Prepare to each of 4 ledger shards; of their replies, one message: the vote whose
    // note completed the set (the others' notes left one missing; the acks end it on the record).
    expect(result.violations).toEqual([]);
    const committed = [...times.values()].filter((t) => t.outcome === 'COMMITTED').length;
    expect(committed).toBeGreaterThan(10);
    expect(requests.get('sendFifo')).toBe(committed);
    const prepared = new Set(
      result.trace.flatMap((line) => /send Prepare tx_model\d+ → (ledger-\d+)/.exec(line)?.slice(1) ?? []),
    );
    expect([...prepared].sort()).toEqual(['ledger-0', 'ledger-1', 'ledger-2', 'ledger-3']);
  });

  it('commits one-phase transfers without the queues', async () => {
    const { result, times, requests } = await smallRun({ perS: 20, onePhase: true });
    expect(result.violations).toEqual([]);
    const all = [...times.values()];
    expect(all.length).toBeGreaterThan(10);
    expect(all.every((t) => t.outcome === 'COMMITTED' && t.answeredAtMs !== undefined)).toBe(true);
    expect(requests.get('sendFifo') ?? 0).toBe(0);
    expect(requests.get('receive (standard)') ?? 0).toBe(0);
  });
});

describe('the model report', () => {
  const summary = (patch: Partial<ModelSummary>): ModelSummary =>
    ({
      conflictsPerTransfer: 0,
      conflictsOn: [],
      fifoWaits: { messages: 0, meanMs: 0 },
      fifoSendWaits: { sends: 0, meanMs: 0 },
      partitionWaits: { writes: 0, meanMs: 0 },
      concurrencyWaits: 0,
      peakConcurrency: 10,
      coldStarts: 0,
      committedInRun: 1_000,
      violations: [],
      ...patch,
    }) as ModelSummary;
  const point = (
    label: string,
    offeredPerS: number,
    committedPerS: number,
    p99Ms: number,
    model = summary({}),
  ) => ({ label, offeredPerS, committedPerS, p99Ms, model }) satisfies CurvePoint;

  it('names the first point that does not carry its load, and what the run reports there', () => {
    const sentence = kneeSentence([
      point('100 tx/s', 100, 99, 500),
      point('1,000 tx/s', 1_000, 600, 900, summary({ fifoWaits: { messages: 10, meanMs: 700 } })),
      point('5,000 tx/s', 5_000, 700, 5_000),
    ]);
    expect(sentence).toContain('Knee: 1,000 tx/s');
    expect(sentence).toContain('after 100 tx/s');
    expect(sentence).toContain('commits 600 of 1,000 tx/s');
    expect(sentence).toContain('FIFO message groups (slots): a vote or ack waited 700 ms');
  });

  it('says when every point carries its load', () => {
    const sentence = kneeSentence([point('100 tx/s', 100, 99, 500, summary({ peakConcurrency: 2_500 }))]);
    expect(sentence).toContain('No knee here');
    expect(sentence).toContain('2,500 executions at once');
  });

  it("prices the model's requests as the bench's requests", () => {
    const usage = usageOf(
      {
        requests: {
          api: 4,
          'receive (FIFO)': 3,
          'receive (standard)': 6,
          read: 10,
          transact: 2,
          sendFifo: 5,
        },
        invocations: { api: { count: 2, ms: 300 } },
      },
      { read: 1, write: 1.5, transact: 6 },
      { api: 512 },
      { api: AWS.requestsPerApiCall, delivery: AWS.requestsPerDelivery },
    );
    expect(usage.requests).toEqual({
      'APIGateway:Request': 2,
      'Lambda:Invoke': 5,
      'SQS-FIFO:ReceiveMessage': 1,
      'SQS-FIFO:DeleteMessageBatch': 1,
      'SQS:ReceiveMessage': 2,
      'SQS:DeleteMessageBatch': 2,
      'DynamoDB:GetItem': 10,
      'DynamoDB:TransactWriteItems': 2,
      'SQS-FIFO:SendMessage': 5,
    });
    expect(usage.readUnits).toBe(10);
    expect(usage.writeUnits).toBe(12);
    expect(usage.lambda.api).toEqual({ invocations: 2, billedMs: 300, memoryMb: 512 });
  });

  it('draws each curve once, leaves out what a log scale cannot show, and gives the same text again', () => {
    const plot = {
      title: 'A <plot>',
      subtitle: 'model',
      xLabel: 'offered tx/s',
      yLabel: 'ms',
      series: [
        {
          name: 'two-phase p50',
          group: 'two-phase',
          points: [
            [10, 400],
            [100, 250],
            [1_000, Number.NaN],
          ] as const,
        },
        {
          name: 'two-phase p99',
          group: 'two-phase',
          dashed: true,
          points: [
            [10, 1_200],
            [100, 0],
          ] as const,
        },
        { name: 'empty', points: [] },
      ],
    };
    const svg = renderLinePlot(plot);
    expect(svg).toBe(renderLinePlot(plot));
    expect(svg).toContain('A &lt;plot&gt;');
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('data-series="two-phase p99" d="M');
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).not.toMatch(/NaN|Infinity|<script|@import/);
  });
});
