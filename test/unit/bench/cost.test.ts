import { describe, expect, it } from 'vitest';
import { analyse, type Ratio } from '../../../dev/bench/analysis';
import {
  costOf,
  isOutsideProtocol,
  isWaitRequest,
  parseRequestKey,
  perMillion,
} from '../../../dev/bench/cost';
import { loadPrices, type PriceTable, parsePrices } from '../../../dev/bench/prices';
import { protocolMinimum, protocolMinimumRequests } from '../../../dev/bench/protocol-minimum';
import { stepFunctionsSagaCost } from '../../../dev/bench/saga';
import { summarize } from '../../../dev/bench/stats';
import type { BenchResult, RunResult, Usage, Workload } from '../../../dev/bench/types';

// Round prices (USD per unit) so that every cost below can be checked by hand.
const rawTable = {
  region: 'test-1',
  checked: '2026-01-02',
  currency: 'USD',
  source: ['https://example.com/prices'],
  notes: [],
  prices: {
    dynamodbWriteRequestUnit: { usd: 2, per: 1, unit: 'WRU' },
    dynamodbReadRequestUnit: { usd: 1, per: 1, unit: 'RRU' },
    sqsStandardRequest: { usd: 3, per: 1, unit: 'request' },
    sqsFifoRequest: { usd: 5, per: 1, unit: 'request' },
    lambdaRequest: { usd: 7, per: 1, unit: 'request' },
    lambdaArm64GbSecond: { usd: 11, per: 1, unit: 'GB-s' },
    apiGatewayHttpRequest: { usd: 13, per: 1, unit: 'request' },
    eventBridgeCustomEvent: { usd: 17, per: 1, unit: 'event' },
    stepFunctionsStateTransition: { usd: 19000, per: 1000, unit: 'transition' },
  },
};
const prices: PriceTable = parsePrices(rawTable);

const usage = (over: Partial<Usage>): Usage => ({
  requests: {},
  readUnits: 0,
  writeUnits: 0,
  events: 0,
  lambda: {},
  ...over,
});

describe('the price table', () => {
  it('loads bench/prices.json with the published us-east-1 prices per unit', () => {
    const table = loadPrices();
    expect(table.region).toBe('us-east-1');
    expect(table.currency).toBe('USD');
    expect(perMillion(table.unitPrices.dynamodbWriteRequestUnit)).toBeCloseTo(0.625, 9);
    expect(perMillion(table.unitPrices.dynamodbReadRequestUnit)).toBeCloseTo(0.125, 9);
    expect(perMillion(table.unitPrices.sqsStandardRequest)).toBeCloseTo(0.4, 9);
    expect(perMillion(table.unitPrices.sqsFifoRequest)).toBeCloseTo(0.5, 9);
    expect(perMillion(table.unitPrices.lambdaRequest)).toBeCloseTo(0.2, 9);
    expect(table.unitPrices.lambdaArm64GbSecond).toBeCloseTo(0.0000133334, 12);
    expect(perMillion(table.unitPrices.apiGatewayHttpRequest)).toBeCloseTo(1, 9);
    expect(perMillion(table.unitPrices.eventBridgeCustomEvent)).toBeCloseTo(1, 9);
    expect(perMillion(table.unitPrices.stepFunctionsStateTransition)).toBeCloseTo(25, 9);
  });

  it('divides usd by per', () => {
    expect(prices.unitPrices.stepFunctionsStateTransition).toBe(19);
    expect(prices.units.sqsFifoRequest).toBe('request');
  });

  it('names the field that is wrong', () => {
    const broken = (patch: (t: typeof rawTable) => unknown) => () =>
      parsePrices(patch(structuredClone(rawTable)), 'test.json');
    expect(
      broken((t) => ({ ...t, prices: { ...t.prices, sqsFifoRequest: { usd: '0.5', per: 1, unit: 'r' } } })),
    ).toThrow(/test\.json: prices\.sqsFifoRequest\.usd must be a non-negative number, got "0\.5"/);
    expect(broken((t) => ({ ...t, prices: { ...t.prices, lambdaRequest: undefined } }))).toThrow(
      /prices\.lambdaRequest must be an object/,
    );
    expect(
      broken((t) => ({ ...t, prices: { ...t.prices, lambdaRequest: { usd: 1, per: 0, unit: 'r' } } })),
    ).toThrow(/prices\.lambdaRequest\.per must be a positive number/);
    expect(broken((t) => ({ ...t, currency: 'EUR' }))).toThrow(/currency must be "USD"/);
    expect(broken((t) => ({ ...t, checked: 'yesterday' }))).toThrow(/checked must be a date/);
    expect(broken((t) => ({ ...t, source: [] }))).toThrow(/source must name at least one entry/);
    expect(() => parsePrices([])).toThrow(/must be a JSON object/);
  });

  it('says which file it could not read', () => {
    expect(() => loadPrices('/nonexistent/prices.json')).toThrow(/cannot read the price table \/nonexistent/);
  });
});

describe('request keys', () => {
  it('splits service, operation and label', () => {
    expect(parseRequestKey('SQS-FIFO:DeleteMessageBatch (poller)')).toEqual({
      service: 'SQS-FIFO',
      operation: 'DeleteMessageBatch',
      label: 'poller',
    });
    expect(parseRequestKey('DynamoDB:TransactWriteItems')).toEqual({
      service: 'DynamoDB',
      operation: 'TransactWriteItems',
    });
    expect(() => parseRequestKey('nocolon')).toThrow(/not <service>:<operation>/);
  });

  it('tells the API wait reads apart', () => {
    expect(isWaitRequest('DynamoDB:GetItem (wait)')).toBe(true);
    expect(isWaitRequest('SQS:ReceiveMessage (poller)')).toBe(false);
    expect(isWaitRequest('DynamoDB:GetItem')).toBe(false);
    expect(isOutsideProtocol('EventBridge:PutEvents (events)')).toBe(true);
    expect(isOutsideProtocol('DynamoDB:GetItem (wait)')).toBe(true);
    expect(isOutsideProtocol('DynamoDB:UpdateItem')).toBe(false);
  });
});

describe('costOf', () => {
  it('prices a hand-made usage as computed by hand', () => {
    // Prepare
    const u = usage({
      requests: {
        'APIGateway:Request': 1,
        'Lambda:Invoke': 3,
        'SQS:SendMessage': 2,
        'SQS:ReceiveMessage (poller)': 1,
        'SQS-FIFO:SendMessage': 1,
        'EventBridge:PutEvents': 1,
        'DynamoDB:PutItem': 4,
        'DynamoDB:GetItem (wait)': 9,
      },
      writeUnits: 5,
      readUnits: 0.5,
      events: 2,
      lambda: {
        api: { invocations: 1, billedMs: 2000, memoryMb: 512 },
        coordinator: { invocations: 2, billedMs: 1000, memoryMb: 1024 },
      },
    });
    // Act
    const cost = costOf(u, prices);
    // Assess: API 1 × 13 + Lambda 3 × 7 + compute (2 s × 0.5 GB + 1 s × 1 GB) × 11 + SQS 3 × 3
    // + FIFO 1 × 5 + WRU 5 × 2 + RRU 0.5 × 1 + events 2 × 17 (not the 1 PutEvents call); DynamoDB
    // requests are priced by their units only.
    expect(cost.total).toBe(13 + 21 + 22 + 9 + 5 + 10 + 0.5 + 34);
    expect(cost.lines).toContainEqual({
      item: 'Lambda arm64 compute (GB-s)',
      quantity: 2,
      unitPrice: 11,
      cost: 22,
    });
    expect(cost.lines).toContainEqual({
      item: 'EventBridge custom events',
      quantity: 2,
      unitPrice: 17,
      cost: 34,
    });
    expect(cost.lines.map((l) => l.item)).not.toContain('Step Functions Standard state transitions');
  });

  it('prices at the published rates', () => {
    const real = loadPrices();
    const million = usage({ requests: { 'SQS:SendMessage': 1_000_000 }, writeUnits: 1_000_000 });
    expect(costOf(million, real).total).toBeCloseTo(0.4 + 0.625, 9);
  });

  it('leaves out lines with nothing to pay', () => {
    expect(costOf(usage({}), prices)).toEqual({ total: 0, lines: [] });
  });

  it('refuses what it has no price for', () => {
    expect(() => costOf(usage({ requests: { 'S3:PutObject': 1 } }), prices)).toThrow(/unknown service 'S3'/);
    expect(() => costOf(usage({ requests: { 'Lambda:GetFunction': 1 } }), prices)).toThrow(
      /Lambda bills only/,
    );
    expect(() => costOf(usage({ requests: { 'SQS:SendMessage': -1 } }), prices)).toThrow(/must be >= 0/);
  });
});

describe('the protocol minimum', () => {
  it('is 18N + 4 billed requests', () => {
    expect(protocolMinimumRequests(2)).toBe(40);
    expect(protocolMinimumRequests(1)).toBe(22);
    expect(protocolMinimumRequests(3)).toBe(58);
  });

  it('breaks down into entry, messages and writes', () => {
    const m = protocolMinimum(2);
    expect(m.messages).toBe(8);
    expect(m.messageRequests).toBe(32);
    expect(m.participantWrites).toBe(4);
    const entry = m.entry.apiRequests + m.entry.lambdaInvocations + m.entry.recordWrites;
    expect(entry + m.messageRequests + m.participantWrites + m.decisionWrites).toBe(m.total);
  });

  it('needs at least one participant', () => {
    expect(() => protocolMinimumRequests(0)).toThrow(/positive integer/);
    expect(() => protocolMinimumRequests(1.5)).toThrow(/positive integer/);
  });
});

describe('stepFunctionsSagaCost', () => {
  it('counts N + 3 transitions, N + 2 writes and one API request', () => {
    const saga = stepFunctionsSagaCost(2, prices);
    expect(saga.stateTransitions).toBe(5);
    expect(saga.writeUnits).toBe(4);
    expect(saga.total).toBe(13 + 5 * 19 + 4 * 2);
    expect(saga.assumptions.join(' ')).toMatch(/happy path/i);
  });

  it('costs $128.50 per million transfers of two participants at the published prices', () => {
    // 1 API request ($1/M) + 5 transitions ($25/M) + 4 WRU ($0.625/M).
    expect(perMillion(stepFunctionsSagaCost(2, loadPrices()).total)).toBeCloseTo(128.5, 6);
  });
});

// A small synthetic result: two-phase and one-phase at concurrency 1 and 8, direct only at 1, and
// the two-phase run at 8 committed nothing.
function run(workload: Workload, concurrency: number, committed: number, u: Usage, p50 = 100): RunResult {
  const samplesMs = committed > 0 ? [p50, p50, p50 * 2] : [];
  return {
    workload,
    concurrency,
    durationMs: 2_000,
    committed,
    aborted: 0,
    failed: 0,
    throughputPerS: committed / 2,
    latency: summarize(samplesMs),
    samplesMs,
    usage: u,
  };
}

const twoPhaseUsage = usage({
  requests: {
    'APIGateway:Request': 10,
    'Lambda:Invoke': 100,
    'SQS:SendMessage': 100,
    'SQS:ReceiveMessage (poller)': 100,
    'SQS:DeleteMessageBatch (poller)': 100,
    'DynamoDB:UpdateItem': 50,
    'DynamoDB:GetItem (wait)': 30,
  },
  writeUnits: 50,
  readUnits: 15,
  lambda: { coordinator: { invocations: 100, billedMs: 0, memoryMb: 512 } },
});
const onePhaseUsage = (n: number) =>
  usage({
    requests: { 'APIGateway:Request': n, 'Lambda:Invoke': n, 'DynamoDB:TransactWriteItems': n },
    writeUnits: 8 * n,
  });

const result: BenchResult = {
  startedAt: '2026-11-26T10:00:00Z',
  machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 8, node: 'v20.19.0', os: 'linux', emulator: 'test' },
  runs: [
    run('two-phase', 1, 10, twoPhaseUsage),
    run('one-phase', 1, 5, onePhaseUsage(5)),
    run('direct', 1, 4, onePhaseUsage(4)),
    run('two-phase', 8, 0, usage({ requests: { 'APIGateway:Request': 8 } })),
    run('one-phase', 8, 8, onePhaseUsage(8)),
  ],
  hop: {
    chains: 2,
    hopsPerChain: 5,
    hopMs: summarize([20, 20, 40]),
    usage: usage({
      requests: { 'SQS:SendMessage': 10, 'SQS:ReceiveMessage (poller)': 10, 'DynamoDB:UpdateItem': 10 },
      writeUnits: 10,
    }),
  },
  coldStarts: [],
};

describe('analyse', () => {
  const analysis = analyse(result, prices, { participants: 2, criticalPathHops: 4 });
  const ratio = (name: Ratio['name'], concurrency: number) =>
    analysis.ratios.find((r) => r.name === name && r.concurrency === concurrency)!;

  it('gives per-transfer requests, protocol requests and cost of each run', () => {
    const [twoPhase, onePhase] = analysis.runs;
    expect(twoPhase?.requestsPerTransfer).toBe(49);
    expect(twoPhase?.protocolRequestsPerTransfer).toBe(46); // without the 3 (wait) reads
    expect(twoPhase?.requestsByKind?.['SQS:SendMessage']).toBe(10);
    expect(twoPhase?.lambdaInvocationsPerTransfer).toBe(10);
    // API 13 + Lambda 10 × 7 + SQS 30 × 3 + WRU 5 × 2 + RRU 1.5 × 1.
    expect(twoPhase?.costPerTransfer?.total).toBe(184.5);
    expect(twoPhase?.costPerMillion).toBe(184.5e6);
    expect(onePhase?.costPerTransfer?.total).toBe(13 + 7 + 16);
  });

  it('gives nulls for a run that committed nothing', () => {
    const empty = analysis.runs[3]!;
    expect(empty.perTransfer).toBeNull();
    expect(empty.costPerMillion).toBeNull();
    expect(empty.requestsPerTransfer).toBeNull();
  });

  it('gives per-hop usage and the hop p50', () => {
    expect(analysis.hop.hops).toBe(10);
    expect(analysis.hop.requestsPerHop).toBe(3);
    expect(analysis.hop.perHop?.writeUnits).toBe(1);
    expect(analysis.hop.p50Ms).toBe(20);
  });

  it('gives each ratio at each concurrency, with its target', () => {
    expect(analysis.ratios).toHaveLength(10);
    expect(ratio('protocol-requests', 1)).toMatchObject({ value: 46 / 40, target: 1.25, met: true });
    // p50 100 ms / (hand-rolled request p50 100 ms + 4 hops × 20 ms).
    expect(ratio('latency', 1)).toMatchObject({ value: 100 / 180, target: 1.5, met: true });
    expect(ratio('one-phase-vs-direct-cost', 1)).toMatchObject({ value: 1, target: 1.1, met: true });
    expect(ratio('two-phase-vs-saga-cost', 1).value).toBeCloseTo(184.5 / 116, 12);
    expect(ratio('two-phase-vs-saga-cost', 1).met).toBe(false);
    expect(ratio('one-phase-vs-saga-cost', 1)).toMatchObject({ value: 36 / 116, met: true });
  });

  it('gives null where a workload is missing or committed nothing', () => {
    expect(ratio('protocol-requests', 8)).toMatchObject({ value: null, met: false });
    expect(ratio('latency', 8).value).toBeNull();
    expect(ratio('one-phase-vs-direct-cost', 8)).toMatchObject({ value: null, met: false });
    expect(ratio('one-phase-vs-saga-cost', 8).value).toBe(36 / 116);
  });

  /** Ratios of `result` plus a two-phase run (p50 300 ms) and a hand-rolled one (40 ms) at 8 clients. */
  const ratiosAt8 = (twoPhaseExtra: Partial<RunResult> = {}) => {
    const at8 = analyse(
      {
        ...result,
        runs: [
          ...result.runs,
          { ...run('two-phase', 8, 10, twoPhaseUsage, 300), ...twoPhaseExtra },
          run('direct', 8, 4, onePhaseUsage(4), 40),
        ],
        loadedHops: [{ concurrency: 8, chains: 8, hopsPerChain: 5, hopMs: summarize([50, 50, 90]) }],
      },
      prices,
      { participants: 2, criticalPathHops: 4 },
    );
    return (name: Ratio['name'], concurrency: number) =>
      at8.ratios.find((r) => r.name === name && r.concurrency === concurrency);
  };

  it("prices the critical path at the run's load when the hop was measured under it", () => {
    const at = ratiosAt8();
    // p50 300 ms / (hand-rolled 40 ms + 4 × the loaded hop's 50 ms), next to the unloaded 4 × 20 ms.
    expect(at('latency-loaded', 8)).toMatchObject({ value: 300 / 240, target: 1.5, met: true });
    expect(at('latency', 8)).toMatchObject({ value: 300 / 120, met: false });
    // No loaded hop at concurrency 1 (its hop is the unloaded one), nor in older stored results.
    expect(at('latency-loaded', 1)).toBeUndefined();
    expect(analysis.ratios.some((r) => r.name === 'latency-loaded')).toBe(false);
    // Nor a hop timed during a run that timed none.
    expect(at('latency-alongside', 8)).toBeUndefined();
  });

  it('prices the critical path with the hop timed during the two-phase run, where it was', () => {
    const at = ratiosAt8({ hopAlongside: { chains: 3, hopsPerChain: 5, hopMs: summarize([40, 70, 100]) } });
    // p50 300 ms / (hand-rolled 40 ms + 4 × 70 ms timed alongside), next to the other two pricings.
    expect(at('latency-alongside', 8)).toMatchObject({ value: 300 / 320, target: 1.5, met: true });
    expect(at('latency-loaded', 8)?.value).toBe(300 / 240);
    expect(at('latency', 8)?.value).toBe(300 / 120);
    // Not where no hop was timed alongside (concurrency 1 here, and older stored results).
    expect(at('latency-alongside', 1)).toBeUndefined();
    expect(analysis.ratios.some((r) => r.name === 'latency-alongside')).toBe(false);
  });

  it('compares the fast path with the hand-rolled transfer that announces its outcome, where that ran', () => {
    const withEvent = usage({
      requests: {
        'APIGateway:Request': 4,
        'Lambda:Invoke': 4,
        'DynamoDB:TransactWriteItems': 4,
        'EventBridge:PutEvents (events)': 4,
      },
      writeUnits: 32,
      events: 4,
    });
    const both = analyse(
      { ...result, runs: [...result.runs, run('direct-events', 1, 4, withEvent)] },
      prices,
      {
        participants: 2,
        criticalPathHops: 4,
      },
    );
    const likeForLike = both.ratios.find(
      (r) => r.name === 'one-phase-vs-direct-events-cost' && r.concurrency === 1,
    );
    // One-phase 36 per transfer; hand-rolled 36 plus one event at 17.
    expect(likeForLike).toMatchObject({ value: 36 / 53, target: 1.1, met: true });
    expect(both.ratios.some((r) => r.name === 'one-phase-vs-direct-events-cost' && r.concurrency === 8)).toBe(
      false,
    );
    expect(analysis.ratios.some((r) => r.name === 'one-phase-vs-direct-events-cost')).toBe(false);
  });

  it('never divides by zero', () => {
    const noHops = analyse({ ...result, hop: { ...result.hop, chains: 0, hopMs: summarize([]) } }, prices, {
      participants: 2,
      criticalPathHops: 4,
    });
    expect(noHops.hop.perHop).toBeNull();
    expect(noHops.ratios.find((r) => r.name === 'latency')?.value).toBeNull();
    const nothing = analyse({ ...result, runs: [] }, prices, { participants: 2, criticalPathHops: 4 });
    expect(nothing.ratios).toEqual([]);
    for (const r of [...noHops.ratios, ...nothing.ratios])
      if (r.value !== null) expect(Number.isFinite(r.value)).toBe(true);
  });

  it('refuses options that make no sense', () => {
    expect(() => analyse(result, prices, { participants: 0, criticalPathHops: 4 })).toThrow(/participants/);
    expect(() => analyse(result, prices, { participants: 2, criticalPathHops: 0 })).toThrow(
      /criticalPathHops/,
    );
  });
});
