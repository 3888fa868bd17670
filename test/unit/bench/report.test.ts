import { describe, expect, it } from 'vitest';
import { analyse } from '../../../dev/bench/analysis';
import { type PriceTable, parsePrices } from '../../../dev/bench/prices';
import { renderJson, renderMarkdown, renderReadmeSummary, spliceReadme } from '../../../dev/bench/report';
import { summarize } from '../../../dev/bench/stats';
import type { BenchResult, RunResult, Usage, Workload } from '../../../dev/bench/types';

// Prices of $1 per million units (and $25 per million transitions), so per-million figures are
// plain unit counts.
const perMillionUsd = (usd: number) => ({ usd, per: 1_000_000, unit: 'unit' });
const prices: PriceTable = parsePrices({
  region: 'us-east-1',
  checked: '2026-11-26',
  currency: 'USD',
  source: ['https://example.com/prices'],
  notes: [],
  prices: {
    dynamodbWriteRequestUnit: perMillionUsd(1),
    dynamodbReadRequestUnit: perMillionUsd(1),
    sqsStandardRequest: perMillionUsd(1),
    sqsFifoRequest: perMillionUsd(1),
    lambdaRequest: perMillionUsd(1),
    lambdaArm64GbSecond: { usd: 0, per: 1, unit: 'GB-s' },
    apiGatewayHttpRequest: perMillionUsd(1),
    eventBridgeCustomEvent: perMillionUsd(1),
    stepFunctionsStateTransition: perMillionUsd(25),
  },
});

const usage = (over: Partial<Usage>): Usage => ({
  requests: {},
  readUnits: 0,
  writeUnits: 0,
  events: 0,
  lambda: {},
  ...over,
});

function run(workload: Workload, concurrency: number, committed: number, u: Usage, p50 = 100): RunResult {
  const samplesMs = committed > 0 ? [p50 - 0.4, p50, p50 + 80.2] : [];
  return {
    workload,
    concurrency,
    durationMs: 2_000,
    committed,
    aborted: 1,
    failed: 0,
    throughputPerS: committed / 2,
    latency: summarize(samplesMs),
    samplesMs,
    usage: u,
  };
}

const twoPhase = (n: number) =>
  usage({
    requests: {
      'APIGateway:Request': n,
      'Lambda:Invoke': 10 * n,
      'SQS:SendMessage': 10 * n,
      'SQS:ReceiveMessage (poller)': 10 * n,
      'SQS:DeleteMessageBatch (poller)': 10 * n,
      'DynamoDB:UpdateItem': 5 * n,
      'DynamoDB:GetItem (wait)': 3 * n,
    },
    writeUnits: 5 * n,
    readUnits: 1.5 * n,
    lambda: { coordinator: { invocations: 10 * n, billedMs: 0, memoryMb: 512 } },
  });
const onePhase = (n: number) =>
  usage({
    requests: { 'APIGateway:Request': n, 'Lambda:Invoke': n, 'DynamoDB:TransactWriteItems': n },
    writeUnits: 8 * n,
    lambda: { api: { invocations: n, billedMs: 0, memoryMb: 512 } },
  });

const result: BenchResult = {
  startedAt: '2026-11-26T10:00:00Z',
  machine: {
    cpus: 2,
    cpuModel: 'Test CPU',
    memoryGiB: 8,
    node: 'v20.19.0',
    os: 'linux x64',
    emulator: 'ministack 1.2.3',
  },
  runs: [
    run('two-phase', 1, 10, twoPhase(10)),
    run('two-phase', 8, 20, twoPhase(20)),
    run('one-phase', 1, 5, onePhase(5)),
    run('one-phase', 8, 0, usage({})),
  ],
  hop: {
    chains: 2,
    hopsPerChain: 5,
    hopMs: summarize([20, 20, 40]),
    usage: usage({ requests: { 'SQS:SendMessage': 10, 'DynamoDB:UpdateItem': 10 }, writeUnits: 10 }),
  },
  coldStarts: [
    { name: 'coordinator', bundleBytes: 51_200, initMs: 30.4 },
    { name: 'api', bundleBytes: 102_400, initMs: 41.6 },
  ],
};
const analysis = analyse(result, prices, { participants: 2, criticalPathHops: 4 });

describe('renderMarkdown', () => {
  const md = renderMarkdown(result, analysis, prices);

  it('has a results row per run, rounded', () => {
    expect(md).toContain(
      '| workload | concurrency | committed | aborted | failed | tx/s | p50 ms | p95 ms | p99 ms | requests/transfer |',
    );
    // 49 requests per transfer: API 1 + Lambda 10 + SQS 30 + DynamoDB 8; 5 WRU, 1.5 RRU;
    // cost at $1/M a unit: 1 + 10 + 30 + 5 + 1.5 = $47.50 per million.
    expect(md).toContain(
      '| two-phase | 1 | 10 | 1 | 0 | 5.0 | 100 | 180 | 180 | 49.0 | 5.0 | 1.5 | 10.0 | 47.50 |',
    );
    expect(md).toContain('| two-phase | 8 | 20 | 1 | 0 | 10.0 | 100 | 180 | 180 | 49.0 |');
    expect(md).toContain(
      '| one-phase | 1 | 5 | 1 | 0 | 2.5 | 100 | 180 | 180 | 3.0 | 8.0 | 0.0 | 1.0 | 10.00 |',
    );
    expect(md).toContain('| one-phase | 8 | 0 | 1 | 0 | 0.0 | 0 | 0 | 0 | — | — | — | — | — |');
  });

  it('lists requests by kind at the highest concurrency that committed', () => {
    expect(md).toContain('| request | two-phase (c=8) | one-phase (c=1) |');
    expect(md).toContain('| DynamoDB:GetItem (wait) | 3.0 | 0.0 |');
    expect(md).toContain('| SQS:ReceiveMessage (poller) | 10.0 | 0.0 |');
    expect(md).toContain('| protocol (total without (wait) and (events)) | 46.0 | 3.0 |');
  });

  it('shows the hop', () => {
    expect(md).toContain('2 chains × 5 hops (10 hops): p50 20 ms');
    expect(md).toContain('Per hop: 2.0 requests');
  });

  it('shows the hop under load when it was measured', () => {
    expect(md).not.toContain('Under load');
    const loadedHops = [{ concurrency: 8, chains: 8, hopsPerChain: 5, hopMs: summarize([50, 50, 90]) }];
    const loaded = { ...result, loadedHops };
    expect(
      renderMarkdown(loaded, analyse(loaded, prices, { participants: 2, criticalPathHops: 4 }), prices),
    ).toContain('Under load, 8 chains at once (8 chains × 5 hops): p50 50 ms, p95 90 ms, p99 90 ms.');
  });

  it('shows the hop timed during a run when it was', () => {
    expect(md).not.toContain('During the');
    const runs = result.runs.map((r) =>
      r.workload === 'two-phase'
        ? { ...r, hopAlongside: { chains: 3, hopsPerChain: 5, hopMs: summarize([40, 70, 100]) } }
        : r,
    );
    const during = { ...result, runs };
    const rendered = renderMarkdown(
      during,
      analyse(during, prices, { participants: 2, criticalPathHops: 4 }),
      prices,
    );
    expect(rendered).toContain(
      'During the two-phase run at 1 clients, one chain at a time (3 chains × 5 hops): p50 70 ms, p95 100 ms, p99 100 ms.',
    );
  });

  it('shows the ratios with their targets, met or not', () => {
    expect(md).toContain('18N + 4 = 40');
    expect(md).toMatch(
      /\| two-phase protocol requests per transfer \/ minimum .* \| 1 \| 1\.15 \| ≤ 1\.25 \| ✓ \|/,
    );
    // No hand-rolled run: no measured entry hop, so no critical path.
    expect(md).toMatch(/\| two-phase p50 \/ critical path .* \| 8 \| — \| ≤ 1\.5 \| — \|/);
    // No direct run: no cost ratio.
    expect(md).toMatch(/\| one-phase cost per transfer \/ .* \| 1 \| — \| ≤ 1\.1 \| — \|/);
    // With a hand-rolled request of p50 10 ms: 100 / (10 + 4 × 20) = 1.11 met; 100 / (10 + 2 × 20) = 2.0 not.
    const withDirect = { ...result, runs: [...result.runs, run('direct', 1, 4, onePhase(4), 10)] };
    const met = analyse(withDirect, prices, { participants: 2, criticalPathHops: 4 });
    expect(renderMarkdown(withDirect, met, prices)).toMatch(
      /\| two-phase p50 \/ critical path \(hand-rolled request p50 \+ 4 × hop p50\) \| 1 \| 1\.11 \| ≤ 1\.5 \| ✓ \|/,
    );
    const strict = analyse(withDirect, prices, { participants: 2, criticalPathHops: 2 });
    expect(renderMarkdown(withDirect, strict, prices)).toMatch(
      /\| two-phase p50 \/ critical path \(hand-rolled request p50 \+ 2 × hop p50\) \| 1 \| 2\.00 \| ≤ 1\.5 \| ✗ \|/,
    );
  });

  it('compares costs per million with the saga, naming the region and date', () => {
    expect(md).toContain('at us-east-1 on-demand list prices checked 2026-11-26');
    expect(md).toContain('| Tandem two-phase | 47.50 | measured, concurrency 8 |');
    expect(md).toContain('| Tandem one-phase | 10.00 | measured, concurrency 1 |');
    expect(md).toContain('| Hand-rolled TransactWriteItems | — | not measured |');
    // 1 API request + 5 transitions × $25/M + 4 WRU.
    expect(md).toContain('| Step Functions Standard saga | 130.00 | model, N = 2, happy path |');
    expect(md).toContain('| Step Functions Standard state transitions | — | — | 125.00 |');
  });

  it('lists cold starts and the machine', () => {
    expect(md).toContain('| api | 100.0 | 42 |');
    expect(md).toContain('| coordinator | 50.0 | 30 |');
    expect(md).toContain(
      'Machine: 2 × Test CPU, 8.0 GiB, Node v20.19.0, linux x64, emulator ministack 1.2.3.',
    );
  });

  it('leaves out cold starts when there are none', () => {
    expect(renderMarkdown({ ...result, coldStarts: [] }, analysis, prices)).not.toContain('## Cold starts');
  });

  it('refuses an analysis of another result', () => {
    expect(() => renderMarkdown({ ...result, runs: result.runs.slice(1) }, analysis, prices)).toThrow(/runs/);
  });
});

describe('renderJson', () => {
  it('round-trips the result and the analysis', () => {
    const parsed = JSON.parse(renderJson(result, analysis));
    expect(parsed.result.runs).toHaveLength(4);
    expect(parsed.analysis.ratios).toHaveLength(10);
    expect(parsed.analysis.protocolMinimum.total).toBe(40);
    expect(renderJson(result, analysis)).toMatch(/^\{\n {2}"result": \{/);
  });
});

describe('the two-phase steps', () => {
  const step = (p50: number) => summarize([p50, p50, p50 * 3]);
  const phases = { entry: step(4), prepare: step(30), decide: step(55), apply: step(12), answer: step(20) };
  const withPhases = {
    ...result,
    runs: result.runs.map((r) => (r.workload === 'two-phase' ? { ...r, phases } : r)),
  };

  it('shows each step’s p50 and p95 per two-phase run, in the report and the README summary', () => {
    const md = renderMarkdown(withPhases, analysis, prices);
    expect(md).toContain('## Where a two-phase transfer’s time goes');
    expect(md).toContain('| step | p50 ms (c=1) | p95 ms (c=1) | p50 ms (c=8) | p95 ms (c=8) |');
    expect(md).toMatch(/\| decide: last vote noted → decision [^|]* \| 55 \| 165 \| 55 \| 165 \|/);
    expect(renderReadmeSummary(withPhases, analysis, prices, 'p.svg')).toContain(
      '#### Where a two-phase transfer’s time goes',
    );
  });

  it('is left out where no run measured it (reports stored before)', () => {
    expect(renderMarkdown(result, analysis, prices)).not.toContain('time goes');
    expect(renderReadmeSummary(result, analysis, prices, 'p.svg')).not.toContain('time goes');
  });
});

describe('the README summary', () => {
  it('holds the results, ratios, costs and the plot, and replaces only what lies between the markers', () => {
    const summary = renderReadmeSummary(result, analysis, prices, 'bench/results/latency.svg');
    expect(summary).toContain('#### Results');
    expect(summary).toContain('#### Ratios and targets');
    expect(summary).toContain('#### Cost per million transfers');
    expect(summary).toContain('![Latency by concurrency](bench/results/latency.svg)');
    const readme = 'intro\n<!-- bench:begin -->\nold\n<!-- bench:end -->\noutro\n';
    expect(spliceReadme(readme, 'new')).toBe(
      'intro\n<!-- bench:begin -->\n\nnew\n\n<!-- bench:end -->\noutro\n',
    );
    expect(() => spliceReadme('no markers', 'new')).toThrow(/bench:begin/);
  });
});
