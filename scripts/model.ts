/**
 * The model (`npm run model`): the simulation in its timed mode (sim/model.ts), swept over a few
 * points, written as a markdown report (bench/results/model.md; `--out FILE` elsewhere):
 *
 *   1. calibration — the emulator profile, closed loop at 1, 8 and 32 clients, beside the emulator
 *      bench's own two-phase rows (bench/results/latest.md);
 *   2. AWS — the aws profile, open loop at 10, 100 and 1,000 transactions/s over the stack's 64
 *      slots, and 2,000 to 10,000 over 512 (shorter runs);
 *   3. the default FIFO queue's send quota; one-phase transfers; a hot account (a share of
 *      transfers debit one account) and Zipf-skewed accounts; participants per transfer; the slot
 *      count at 1,000 and 5,000 transactions/s.
 *
 * Every row has its cost per million committed transfers (sim/cost.ts), every curve a sentence on
 * its knee taken from the run's numbers (sim/model.ts), and the curves against offered load and
 * slots are drawn as SVGs next to the report.
 *
 * A MODEL, not a measurement of AWS: what it assumes and where each figure comes from is
 * docs/model.md. Every run keeps the simulation's invariant checks on; a violation fails the script.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LineSeries, renderLinePlot } from '../dev/bench/plot';
import { loadPrices } from '../dev/bench/prices';
import type { BenchResult } from '../dev/bench/types';
import { benchTwoPhase, CALIBRATION_RUN, CALIBRATION_TOLERANCE } from '../sim/calibration';
import type { Load, TimedOptions } from '../sim/core';
import { benchMemoryMb, benchUnitsPerCall, costPerMillion, type UnitsPerCall } from '../sim/cost';
import { accountsByShard } from '../sim/load';
import {
  ACCOUNT_CONCURRENCY,
  type CurvePoint,
  kneeSentence,
  type ModelSummary,
  runModel,
} from '../sim/model';
import { Zipf } from '../sim/prng';
import { AWS, AWS_DEFAULT_FIFO, AWS_WARM, EMULATOR } from '../sim/profile';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'bench/results/model.md' } },
});

const CLIENTS = [1, 8, 32];
const RATES_PER_S = [10, 100, 1_000];
/** Offered rates for the default FIFO queue's quota: under and over its bound of ~300 transfers/s. */
const QUOTA_RATES_PER_S = [200, 400];
/** Shares of 100 transfers/s that debit one hot account: below and at the knee. */
const HOT_SHARES = [0, 0.05, 0.1, 0.15];
const HOT_RATE_PER_S = 100;
/** Slot counts at 1,000 transfers/s (64, the stack's default, is the open-loop row above). */
const SLOT_COUNTS = [16, 256, 1_024];
const SLOTS_RATE_PER_S = 1_000;
/** The open-loop runs: long enough for a steady state at 1,000/s, short enough for CPU minutes. */
const OPEN_RUN = { seed: 1, durationMs: 6_000, warmupMs: 2_000, accounts: 1_000, slotCount: 64 };
/**
 * Open loop past 1,000/s: over 512 slots (~24 transfers/s a slot, so room for 10,000/s) and 10,000
 * accounts (so that two transfers seldom share one), warm (AWS_WARM: a short run would otherwise
 * measure the scale-up from cold), in runs short enough for the CPU budget — each run's simulated
 * and measured seconds are in its table.
 */
const HIGH_SLOTS = 512;
const HIGH_RUNS = [
  { perS: 2_000, durationMs: 1_500, warmupMs: 500 },
  { perS: 5_000, durationMs: 3_000, warmupMs: 1_000 },
  { perS: 10_000, durationMs: 2_500, warmupMs: 1_000 },
];
const HIGH_RUN = { profile: AWS_WARM, accounts: 10_000 };
/**
 * Slot counts offered more than their slots can carry (SATURATION_PER_SLOT transfers/s a slot):
 * what each carries then, per slot, is the slot's capacity — constant if throughput grows linearly
 * with slots.
 */
const SATURATION_SLOT_COUNTS = [4, 8, 16, 32];
const SATURATION_PER_SLOT = 150;
const SATURATION_RUN = { durationMs: 3_000, warmupMs: 1_000 };
/** Slot counts for a deployment sized for 5,000/s (512 is the open-loop row). */
const SIZING_RATE_PER_S = 5_000;
const SIZING_SLOT_COUNTS = [256];
/** One-phase transfers (the fast path: the record and both accounts in one transaction). */
const ONE_PHASE_RATES_PER_S = [100, 1_000, 5_000, 10_000];
/** Participants (ledger shards) per transfer at 100 transfers/s (2 is the open-loop row). */
const PARTICIPANT_COUNTS = [4, 10];
const PARTICIPANTS_RATE_PER_S = 100;
/** Zipf exponents over each shard's accounts at 100 transfers/s (uniform is the open-loop row). */
const ZIPF_EXPONENTS = [0.5, 1, 1.2];
const ZIPF_RATE_PER_S = 100;

const bench = benchTwoPhase(readFileSync('bench/results/latest.md', 'utf8'));
const benchResult = (JSON.parse(readFileSync('bench/results/latest.json', 'utf8')) as { result: BenchResult })
  .result;
const prices = loadPrices();
const twoPhaseUnits = benchUnitsPerCall(benchResult, 'two-phase');
const onePhaseUnits = benchUnitsPerCall(benchResult, 'one-phase', twoPhaseUnits);
const memoryMb = benchMemoryMb(benchResult);
const started = performance.now();
const startedCpu = process.cpuUsage();
const log = (line: string) => console.error(`[model] ${line}`);

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const thousands = (value: number) => value.toLocaleString('en');

/**
 * A run's summary, logged; a violation of the harness's checks fails the script — except, where
 * `liveness` says so, a broken liveness bound, which is then what the row reports.
 */
function checked(
  label: string,
  summary: ModelSummary,
  liveness: 'fails' | 'reported' = 'fails',
): ModelSummary {
  log(
    `${label}: ${fixed(summary.perS, 1)} tx/s, p50 ${fixed(summary.latencyMs.p50)} ms, p99 ${fixed(summary.latencyMs.p99)} ms (${fixed(summary.elapsedMs / 1000, 1)} s)`,
  );
  const fatal = summary.violations.filter((v) => liveness === 'fails' || !v.startsWith('liveness:'));
  if (fatal.length > 0) {
    console.error(summary.violations.join('\n'));
    process.exit(1);
  }
  return summary;
}

/** The aws profile's open-loop run at `load`, over OPEN_RUN with `run`'s changes. */
const openRun = (load: Omit<Extract<Load, { kind: 'open' }>, 'kind'>, run: Partial<TimedOptions> = {}) =>
  runModel({
    seed: OPEN_RUN.seed,
    timed: { ...OPEN_RUN, profile: AWS, ...run, load: { kind: 'open', ...load } },
  });

/** A row's cell for the measured window's two halves (the steady-state check). */
const halvesOf = (model: ModelSummary, cell: (half: ModelSummary['halves'][number]) => string) =>
  `${cell(model.halves[0])} / ${cell(model.halves[1])}`;

/** What the saturated runs say of linearity: each count's capacity per slot against their mean. */
function linearitySentence(): string {
  const per = saturated.map(({ slotCount, model }) => model.perS / slotCount);
  const spread = Math.max(...per.map((v) => Math.abs(v / perSlotCapacity - 1)));
  const first = saturated[0]!;
  const last = saturated[saturated.length - 1]!;
  return `From ${first.slotCount} to ${last.slotCount} slots, committed throughput goes ${fixed(first.model.perS)} → ${fixed(last.model.perS)} tx/s (×${fixed(last.model.perS / first.model.perS, 1)} for ×${fixed(last.slotCount / first.slotCount)} slots): ${fixed(perSlotCapacity, 1)} transfers/s a slot on average, every count within ${fixed(spread * 100)} % of it. In this model, slots are the limit of a saturated deployment until the next one it names: the account's Lambda concurrency (the peak column; ${thousands(ACCOUNT_CONCURRENCY)} by default).`;
}

/** USD per million committed transfers of a run (sim/cost.ts). */
const cost = (model: ModelSummary, units: UnitsPerCall = twoPhaseUnits) =>
  `${fixed(
    costPerMillion(
      model,
      units,
      memoryMb,
      { api: AWS.requestsPerApiCall, delivery: AWS.requestsPerDelivery },
      prices,
    ),
    2,
  )}`;

const calibration: Array<{ clients: number; model: ModelSummary }> = [];
for (const clients of CLIENTS) {
  const model = await runModel({
    seed: CALIBRATION_RUN.seed,
    timed: { ...CALIBRATION_RUN, profile: EMULATOR, load: { kind: 'closed', clients } },
  });
  calibration.push({ clients, model: checked(`emulator, ${clients} client(s)`, model) });
}

const open: Array<{ perS: number; model: ModelSummary }> = [];
for (const perS of RATES_PER_S) {
  const model = await runModel({
    seed: OPEN_RUN.seed,
    timed: { ...OPEN_RUN, profile: AWS, load: { kind: 'open', perS } },
  });
  open.push({ perS, model: checked(`aws, ${perS}/s offered`, model) });
}

const quota: Array<{ perS: number; model: ModelSummary }> = [];
for (const perS of QUOTA_RATES_PER_S) {
  const model = await runModel({
    seed: OPEN_RUN.seed,
    timed: { ...OPEN_RUN, profile: AWS_DEFAULT_FIFO, load: { kind: 'open', perS } },
  });
  quota.push({ perS, model: checked(`aws with a default FIFO queue, ${perS}/s offered`, model) });
}

const hot: Array<{ share: number; model: ModelSummary }> = [];
for (const hotShare of HOT_SHARES) {
  const model = await runModel({
    seed: OPEN_RUN.seed,
    timed: { ...OPEN_RUN, profile: AWS, load: { kind: 'open', perS: HOT_RATE_PER_S, hotShare } },
  });
  hot.push({
    share: hotShare,
    model: checked(`aws, ${hotShare * 100} % of ${HOT_RATE_PER_S}/s from a hot account`, model),
  });
}

const high: Array<{ perS: number; durationMs: number; warmupMs: number; model: ModelSummary }> = [];
for (const run of HIGH_RUNS) {
  const model = await openRun({ perS: run.perS }, { ...HIGH_RUN, ...run, slotCount: HIGH_SLOTS });
  high.push({ ...run, model: checked(`aws, ${run.perS}/s over ${HIGH_SLOTS} slots`, model) });
}
const highRunOf = (perS: number) => HIGH_RUNS.find((run) => run.perS === perS);

const saturated: Array<{ slotCount: number; perS: number; model: ModelSummary }> = [];
for (const slotCount of SATURATION_SLOT_COUNTS) {
  const perS = slotCount * SATURATION_PER_SLOT;
  const model = await openRun({ perS }, { ...HIGH_RUN, ...SATURATION_RUN, slotCount });
  saturated.push({
    slotCount,
    perS,
    model: checked(`aws, ${perS}/s over ${slotCount} slots (saturated)`, model),
  });
}
/** What one slot carries when its group is never idle (the saturated runs' mean). */
const perSlotCapacity =
  saturated.reduce((sum, { slotCount, model }) => sum + model.perS / slotCount, 0) / saturated.length;

const slots: Array<{ perS: number; slotCount: number; model: ModelSummary }> = [
  {
    perS: SLOTS_RATE_PER_S,
    slotCount: OPEN_RUN.slotCount,
    model: open.find(({ perS }) => perS === SLOTS_RATE_PER_S)!.model,
  },
  {
    perS: SIZING_RATE_PER_S,
    slotCount: HIGH_SLOTS,
    model: high.find(({ perS }) => perS === SIZING_RATE_PER_S)!.model,
  },
];
for (const slotCount of SLOT_COUNTS) {
  const model = await openRun({ perS: SLOTS_RATE_PER_S }, { slotCount });
  slots.push({
    perS: SLOTS_RATE_PER_S,
    slotCount,
    model: checked(`aws, ${SLOTS_RATE_PER_S}/s over ${slotCount} slots`, model),
  });
}
for (const slotCount of SIZING_SLOT_COUNTS) {
  const run = highRunOf(SIZING_RATE_PER_S)!;
  const model = await openRun(
    { perS: SIZING_RATE_PER_S },
    { ...HIGH_RUN, durationMs: run.durationMs, warmupMs: run.warmupMs, slotCount },
  );
  slots.push({
    perS: SIZING_RATE_PER_S,
    slotCount,
    model: checked(`aws, ${SIZING_RATE_PER_S}/s over ${slotCount} slots`, model),
  });
}
slots.sort((a, b) => a.perS - b.perS || a.slotCount - b.slotCount);

const onePhase: Array<{ perS: number; run: { durationMs: number; warmupMs: number }; model: ModelSummary }> =
  [];
for (const perS of ONE_PHASE_RATES_PER_S) {
  const short = highRunOf(perS);
  const run = short ?? OPEN_RUN;
  const model = await openRun(
    { perS, onePhase: true },
    short ? { ...HIGH_RUN, durationMs: short.durationMs, warmupMs: short.warmupMs } : {},
  );
  onePhase.push({ perS, run, model: checked(`aws, one-phase, ${perS}/s`, model) });
}

const participants: Array<{ count: number; model: ModelSummary }> = [
  { count: 2, model: open.find(({ perS }) => perS === PARTICIPANTS_RATE_PER_S)!.model },
];
for (const count of PARTICIPANT_COUNTS) {
  const model = await openRun({ perS: PARTICIPANTS_RATE_PER_S, participants: count });
  participants.push({
    count,
    model: checked(`aws, ${count} participants, ${PARTICIPANTS_RATE_PER_S}/s`, model),
  });
}

const zipf: Array<{ s: number; model: ModelSummary }> = [
  { s: 0, model: open.find(({ perS }) => perS === ZIPF_RATE_PER_S)!.model },
];
for (const s of ZIPF_EXPONENTS) {
  const model = await openRun({ perS: ZIPF_RATE_PER_S, zipfS: s });
  zipf.push({ s, model: checked(`aws, Zipf s = ${s}, ${ZIPF_RATE_PER_S}/s`, model, 'reported') });
}

/** A point of a curve against offered load, for its knee. */
const offeredPoint = (label: string, offeredPerS: number, model: ModelSummary): CurvePoint => ({
  label,
  offeredPerS,
  committedPerS: model.perS,
  p99Ms: model.latencyMs.p99,
  model,
});
const rateLabel = (perS: number) => `${thousands(perS)} tx/s`;
const seconds = (ms: number) => fixed(ms / 1000, 1);
const outDir = dirname(values.out);
const svgName = (family: string) => `${basename(values.out, '.md')}-${family}.svg`;

/** Each curve family as two plots: committed tx/s, and p50 (solid) and p99 (dashed) in ms. */
function plotFamily(
  family: string,
  what: string,
  xLabel: string,
  curves: ReadonlyArray<{ name: string; points: ReadonlyArray<readonly [number, ModelSummary]> }>,
): string[] {
  const throughput: LineSeries[] = curves.map(({ name, points }) => ({
    name,
    points: points.map(([x, m]) => [x, m.perS] as const),
  }));
  const latency: LineSeries[] = curves.flatMap(({ name, points }) => [
    { name: `${name} p50`, group: name, points: points.map(([x, m]) => [x, m.latencyMs.p50] as const) },
    {
      name: `${name} p99`,
      group: name,
      dashed: true,
      points: points.map(([x, m]) => [x, m.latencyMs.p99] as const),
    },
  ]);
  const subtitle = 'a model, not a measurement · aws profile · npm run model';
  const files = [
    [
      `${family}-throughput`,
      {
        title: `Tandem on AWS (model): committed tx/s by ${what}`,
        subtitle,
        xLabel,
        yLabel: 'committed tx/s (log scale)',
        series: throughput,
      },
    ],
    [
      `${family}-latency`,
      {
        title: `Tandem on AWS (model): p50 and p99 by ${what}`,
        subtitle,
        xLabel,
        yLabel: 'request → answer, ms (log scale)',
        series: latency,
      },
    ],
  ] as const;
  for (const [name, plot] of files) writeFileSync(join(outDir, svgName(name)), renderLinePlot(plot));
  return files.map(([name]) => `![${name}](${svgName(name)})`);
}

const partitionWaits = (model: ModelSummary) =>
  `${model.partitionWaits.writes} (${fixed(model.partitionWaits.meanMs, 1)})`;

const ratio = (model: number, measured: number | undefined) =>
  measured === undefined ? '—' : `${fixed(model / measured, 2)}`;
const mark = (model: number, measured: number | undefined) =>
  measured !== undefined && Math.abs(model / measured - 1) <= CALIBRATION_TOLERANCE ? '✓' : '✗';

const cpuS = (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(startedCpu));
const lines = [
  '# Tandem on AWS: the model',
  '',
  `Generated by \`npm run model\` in ${fixed((performance.now() - started) / 1000)} s (${fixed(cpuS)} s of CPU). **A model, not a measurement**: the deterministic simulation's World in its timed mode — the real shells over the in-memory adapters, fault-free, each port call and hop timed by a profile. Profiles, their sources and assumptions: [docs/model.md](../../docs/model.md).`,
  '',
  '## Calibration: the emulator profile against the emulator bench',
  '',
  `Closed loop, two-phase transfers (each client between its own two accounts, as the bench's), ${CALIBRATION_RUN.slotCount} slots, ${CALIBRATION_RUN.durationMs / 1000} s of simulated time of which the first ${CALIBRATION_RUN.warmupMs / 1000} s are not measured; seed ${CALIBRATION_RUN.seed}. Bench: bench/results/latest.md. Tolerance ±${CALIBRATION_TOLERANCE * 100} % (test/sim/model-calibration.test.ts holds it at each of these points).`,
  '',
  '| clients | model tx/s | bench tx/s | ratio | | model p50 ms | bench p50 ms | ratio | | model p99 ms | model requests/transfer | bench requests/transfer |',
  '| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ...calibration.map(({ clients, model }) => {
    const measured = bench.get(clients);
    return `| ${clients} | ${fixed(model.perS, 1)} | ${measured ? fixed(measured.perS, 1) : '—'} | ${ratio(model.perS, measured?.perS)} | ${mark(model.perS, measured?.perS)} | ${fixed(model.latencyMs.p50)} | ${measured ? measured.p50Ms : '—'} | ${ratio(model.latencyMs.p50, measured?.p50Ms)} | ${mark(model.latencyMs.p50, measured?.p50Ms)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.requestsPerTransfer, 1)} | ${measured ? fixed(measured.requestsPerTransfer, 1) : '—'} |`;
  }),
  '',
  '## AWS profile, open loop',
  '',
  `Poisson arrivals of two-phase transfers between two random accounts of ${OPEN_RUN.accounts.toLocaleString('en')} (one on each ledger shard), ${OPEN_RUN.slotCount} slots (the stack's default), ${OPEN_RUN.durationMs / 1000} s of simulated time, the first ${OPEN_RUN.warmupMs / 1000} s not measured; seed ${OPEN_RUN.seed}. Throughput counts committed transfers answered in the measured window.`,
  '',
  '| offered tx/s | committed tx/s | aborted | p50 ms | p95 ms | p99 ms | requests/transfer | cold starts | writes that waited for a partition (mean ms) | peak Lambda concurrency | $ per million | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...open.map(
    ({ perS, model }) =>
      `| ${perS.toLocaleString('en')} | ${fixed(model.perS, 1)} | ${model.aborted} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.requestsPerTransfer, 1)} | ${model.coldStarts} | ${partitionWaits(model)} | ${thousands(model.peakConcurrency)} | ${cost(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  kneeSentence(open.map(({ perS, model }) => offeredPoint(rateLabel(perS), perS, model))),
  '',
  `## AWS profile, open loop up to ${thousands(HIGH_RUNS[HIGH_RUNS.length - 1]!.perS)} tx/s (${HIGH_SLOTS} slots)`,
  '',
  `As above, over ${HIGH_SLOTS} slots (about ${fixed(perSlotCapacity)} transfers/s a slot at saturation, below: room for ${thousands(Math.round((HIGH_SLOTS * perSlotCapacity) / 100) * 100)}) and ${thousands(HIGH_RUN.accounts)} accounts, in **shorter runs** (the CPU budget): each row's simulated and measured seconds are its own. These runs are **warm** (profile \`AWS_WARM\`: the aws profile without cold starts, a deployment that has carried its load for a while); their \`new environments\` are the execution environments they made. The knee reads them after the 64-slot run at 1,000 tx/s above (cold, 6 s).`,
  '',
  '| offered tx/s | simulated s (measured) | committed tx/s | 1st half / 2nd half tx/s | p50 ms | p95 ms | p99 ms | 1st half / 2nd half p99 ms | decide p50 ms | FIFO wait mean ms | conflicts/transfer | new environments | peak Lambda concurrency | deliveries that waited for concurrency | $ per million | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...high.map(
    ({ perS, durationMs, warmupMs, model }) =>
      `| ${thousands(perS)} | ${seconds(durationMs)} (${seconds(durationMs - warmupMs)}) | ${fixed(model.perS, 1)} | ${halvesOf(model, (h) => fixed(h.perS, 1))} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${halvesOf(model, (h) => fixed(h.p99Ms))} | ${fixed(model.stepsP50Ms.decide)} | ${fixed(model.fifoWaits.meanMs)} | ${fixed(model.conflictsPerTransfer, 2)} | ${thousands(model.coldStarts)} | ${thousands(model.peakConcurrency)} | ${thousands(model.concurrencyWaits)} | ${cost(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  kneeSentence([
    offeredPoint(
      `${rateLabel(SLOTS_RATE_PER_S)} (64 slots)`,
      SLOTS_RATE_PER_S,
      open.find(({ perS }) => perS === SLOTS_RATE_PER_S)!.model,
    ),
    ...high.map(({ perS, model }) => offeredPoint(rateLabel(perS), perS, model)),
  ]),
  '',
  `Peak Lambda concurrency counts every function's invocations at once (the API's, held open for \`?wait\`, among them): the account's default quota is ${thousands(ACCOUNT_CONCURRENCY)} over all functions of a Region (https://aws.amazon.com/about-aws/whats-new/2017/11/set-concurrency-limits-on-individual-aws-lambda-functions/; https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), and it can be raised. The profile enforces ${thousands(AWS.lambdaConcurrency)} per function for the queues' consumers only (deliveries wait), not the account's total: where the peak is over ${thousands(ACCOUNT_CONCURRENCY)} the row needs a raised quota.`,
  '',
  ...plotFamily('offered', 'offered load', 'offered tx/s (log scale)', [
    { name: 'two-phase, 64 slots', points: open.map(({ perS, model }) => [perS, model] as const) },
    { name: `two-phase, ${HIGH_SLOTS} slots`, points: high.map(({ perS, model }) => [perS, model] as const) },
    { name: 'one-phase', points: onePhase.map(({ perS, model }) => [perS, model] as const) },
  ]),
  '',
  '## One-phase transfers (AWS profile)',
  '',
  `The same open loop with the one-phase fast path allowed (\`commit: 'auto'\`): the record and both accounts in one TransactWriteItems from the API, no queue, no coordinator. Runs to 1,000 tx/s are ${seconds(OPEN_RUN.durationMs)} s (${seconds(OPEN_RUN.durationMs - OPEN_RUN.warmupMs)} measured) over ${thousands(OPEN_RUN.accounts)} accounts; faster ones as in the table above (warm, short), over ${thousands(HIGH_RUN.accounts)}.`,
  '',
  '| offered tx/s | simulated s (measured) | committed tx/s | p50 ms | p95 ms | p99 ms | requests/transfer | conflicts/transfer | peak Lambda concurrency | $ per million | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...onePhase.map(
    ({ perS, run, model }) =>
      `| ${thousands(perS)} | ${seconds(run.durationMs)} (${seconds(run.durationMs - run.warmupMs)}) | ${fixed(model.perS, 1)} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.requestsPerTransfer, 1)} | ${fixed(model.conflictsPerTransfer, 2)} | ${thousands(model.peakConcurrency)} | ${cost(model, onePhaseUnits)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  kneeSentence(onePhase.map(({ perS, model }) => offeredPoint(rateLabel(perS), perS, model))),
  '',
  '## Before high-throughput mode: a default FIFO queue (300 SendMessage/s)',
  '',
  'The rows above assume a FIFO queue that takes every send: the stack deploys its coordinator queue in high-throughput mode (test/infra/stack.test.ts), because of these rows. A default FIFO queue, as the stack deployed before, takes 300 SendMessage calls/s. A transfer sent 4 to it (2 votes, 2 acks) — at most 75 transfers/s — until the participants’ notes made the messages needless but one: now it sends 1 (the vote whose note completes the set; no acks), so it carries about 300 transfers/s. Over that bound the sends queue (the model queues them; AWS throttles and the SDK retries), and latency grows for as long as the load lasts. These runs are not in a steady state.',
  '',
  '| offered tx/s | answered tx/s | aborted | p50 ms | p95 ms | p99 ms | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...quota.map(
    ({ perS, model }) =>
      `| ${perS} | ${fixed(model.perS, 1)} | ${model.aborted} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  kneeSentence(quota.map(({ perS, model }) => offeredPoint(rateLabel(perS), perS, model))),
  '',
  '## A hot account (AWS profile)',
  '',
  `${HOT_RATE_PER_S} transfers/s offered as above; a share of them debit one account (the hot one), the others two random accounts. Every write of an account item waits its turn at the item's partition (1,000 write units/s; 2 units a transactional item), and a write that completes while a transactional write of one of its items is in flight is cancelled (TransactionConflict) and retried after a backoff. Hot and other transfers are counted apart; the knee compares the hot transfers committed with those submitted in the window (a few dozen: the nominal rate would make Poisson noise a knee).`,
  '',
  '| hot share | hot tx/s offered (submitted) | hot: committed tx/s | hot p50 ms | hot p99 ms | others: committed tx/s | others p50 ms | others p99 ms | conflicts/transfer | writes that waited for a partition (mean ms) | aborted | $ per million | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...hot.map(({ share, model }) => {
    const h = model.byHot!.hot;
    const o = model.byHot!.other;
    return `| ${share * 100} % | ${fixed(share * HOT_RATE_PER_S)} (${fixed(h.submittedPerS, 1)}) | ${fixed(h.perS, 1)} | ${fixed(h.p50Ms)} | ${fixed(h.p99Ms)} | ${fixed(o.perS, 1)} | ${fixed(o.p50Ms)} | ${fixed(o.p99Ms)} | ${fixed(model.conflictsPerTransfer, 2)} | ${partitionWaits(model)} | ${model.aborted} | ${cost(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`;
  }),
  '',
  kneeSentence(
    hot
      .filter(({ share }) => share > 0)
      .map(({ share, model }) => ({
        label: `${share * 100} % (${fixed(share * HOT_RATE_PER_S)} hot tx/s)`,
        // What the window's Poisson arrivals brought (a few dozen transfers), not the nominal rate.
        offeredPerS: model.byHot!.hot.submittedPerS,
        committedPerS: model.byHot!.hot.perS,
        p99Ms: model.byHot!.hot.p99Ms,
        model,
      })),
    'share (its hot transfers)',
  ),
  '',
  '## Account skew: Zipf (AWS profile)',
  '',
  `${ZIPF_RATE_PER_S} transfers/s offered as above, each account picked by a Zipf law of exponent s over its shard's accounts (${accountsByShard(
    OPEN_RUN.accounts,
    2,
  )
    .map((ids) => ids.length)
    .join(
      ' and ',
    )} of the ${thousands(OPEN_RUN.accounts)}; rank 1 is the hot account of the table above; s = 0 is uniform, the open-loop row). The top account's share is the law's, of the debits and of the credits. A run whose liveness bound breaks is reported, not failed: the trace of such a run shows a handler giving up on TransactionConflict and its message coming back after the visibility timeout.`,
  '',
  "| Zipf s | top account's share | committed tx/s | p50 ms | p99 ms | conflicts/transfer | writes that waited for a partition (mean ms) | liveness | $ per million | CPU s |",
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  ...zipf.map(({ s, model }) => {
    const ranks = accountsByShard(OPEN_RUN.accounts, 2).map((ids) => ids.length);
    const top = ranks.map((n) => `${fixed(new Zipf(n, s).share(0) * 100, 1)} %`).join(' / ');
    const broken = model.violations.some((v) => v.startsWith('liveness:'));
    return `| ${s} | ${top} | ${fixed(model.perS, 1)} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.conflictsPerTransfer, 2)} | ${partitionWaits(model)} | ${broken ? 'bound broken' : 'held'} | ${cost(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`;
  }),
  '',
  kneeSentence(
    zipf.map(({ s, model }) => offeredPoint(`s = ${s}`, ZIPF_RATE_PER_S, model)),
    'exponent',
  ),
  '',
  '## Participants per transfer (AWS profile)',
  '',
  `${PARTICIPANTS_RATE_PER_S} transfers/s offered as above; a transfer with n participants debits an account on ledger shard 0 and credits one on each of n − 1 other shards (one participant a shard, each noting its vote and ack on the record). 2 is the open-loop row.`,
  '',
  '| participants | committed tx/s | p50 ms | p99 ms | decide p50 ms | settle p50 ms | requests/transfer | conflicts/transfer | writes that waited for a partition (mean ms) | $ per million | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...participants.map(
    ({ count, model }) =>
      `| ${count} | ${fixed(model.perS, 1)} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.stepsP50Ms.decide)} | ${fixed(model.stepsP50Ms.complete)} | ${fixed(model.requestsPerTransfer, 1)} | ${fixed(model.conflictsPerTransfer, 2)} | ${partitionWaits(model)} | ${cost(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  kneeSentence(
    participants.map(({ count, model }) =>
      offeredPoint(`${count} participants`, PARTICIPANTS_RATE_PER_S, model),
    ),
    'participant count',
  ),
  '',
  '## Slots at saturation (AWS profile)',
  '',
  `Each slot count offered ${SATURATION_PER_SLOT} transfers/s a slot, more than a slot carries, so that every slot's message group always has a batch waiting (${seconds(SATURATION_RUN.durationMs)} s runs, the last ${seconds(SATURATION_RUN.durationMs - SATURATION_RUN.warmupMs)} measured; warm, ${thousands(HIGH_RUN.accounts)} accounts). What a run then commits per slot is a slot's capacity: if throughput grows linearly with slots, it is the same at every count.`,
  '',
  '| slots | offered tx/s | committed tx/s | committed per slot | 1st half / 2nd half tx/s | p50 ms | decide p50 ms | FIFO wait mean ms | peak Lambda concurrency | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...saturated.map(
    ({ slotCount, perS, model }) =>
      `| ${thousands(slotCount)} | ${thousands(perS)} | ${fixed(model.perS, 1)} | ${fixed(model.perS / slotCount, 1)} | ${halvesOf(model, (h) => fixed(h.perS, 1))} | ${fixed(model.latencyMs.p50)} | ${fixed(model.stepsP50Ms.decide)} | ${fixed(model.fifoWaits.meanMs)} | ${thousands(model.peakConcurrency)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  linearitySentence(),
  '',
  '## Slots (AWS profile)',
  '',
  `${thousands(SLOTS_RATE_PER_S)} transfers/s offered as above (${seconds(OPEN_RUN.durationMs)} s runs), and ${thousands(SIZING_RATE_PER_S)}/s as in the table up to ${thousands(HIGH_RUNS[HIGH_RUNS.length - 1]!.perS)} tx/s (warm, short runs, ${thousands(HIGH_RUN.accounts)} accounts), over a number of slots (FIFO message groups: one coordinator batch in flight per group; as many coordinator environments as slots, up to the Lambda concurrency of ${thousands(AWS.lambdaConcurrency)}).`,
  '',
  '| offered tx/s | slots | committed tx/s | 1st half / 2nd half tx/s | p50 ms | p95 ms | p99 ms | decide p50 ms | FIFO wait mean ms | new environments | peak Lambda concurrency | $ per million | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...slots.map(
    ({ perS, slotCount, model }) =>
      `| ${thousands(perS)} | ${thousands(slotCount)} | ${fixed(model.perS, 1)} | ${halvesOf(model, (h) => fixed(h.perS, 1))} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.stepsP50Ms.decide)} | ${fixed(model.fifoWaits.meanMs)} | ${thousands(model.coldStarts)} | ${thousands(model.peakConcurrency)} | ${cost(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  ...[SLOTS_RATE_PER_S, SIZING_RATE_PER_S].flatMap((rate) => [
    `At ${rateLabel(rate)}: ${kneeSentence(
      slots
        .filter(({ perS }) => perS === rate)
        .reverse()
        .map(({ slotCount, model }) => offeredPoint(`${thousands(slotCount)} slots`, rate, model)),
      'slot count',
    )}`,
    '',
  ]),
  '',
  ...plotFamily(
    'slots',
    'slot count',
    'slots (log scale)',
    [SLOTS_RATE_PER_S, SIZING_RATE_PER_S].map((rate) => ({
      name: `${rateLabel(rate)} offered`,
      points: slots
        .filter(({ perS }) => perS === rate)
        .map(({ slotCount, model }) => [slotCount, model] as const),
    })),
  ),
  '',
  '## Cost per million committed transfers',
  '',
  `The \`$ per million\` columns price each run's requests with the bench's cost model (dev/bench/cost.ts) at bench/prices.json (${prices.region}, checked ${prices.checked}), divided by the run's committed transfers (its warm-up too). The model counts requests, not DynamoDB capacity: each request is charged the request units that the bench measured per request of its kind (bench/results/latest.json, \`unitsByRequest\`, over the two-phase runs; one-phase rows: the one-phase runs, reads as two-phase's): a read ${fixed(twoPhaseUnits.read, 2)} RRU, a write ${fixed(twoPhaseUnits.write, 2)} WRU, a TransactWriteItems ${fixed(twoPhaseUnits.transact, 2)} WRU (one-phase: ${fixed(onePhaseUnits.transact, 2)}). Those are 2-participant transfers: rows with more participants are charged per request at the same units. Lambda compute is the time the model's invocations ran (the API's held open for \`?wait\` among them) at the memory the bench reports (${Object.entries(
    memoryMb,
  )
    .map(([kind, mb]) => `${kind} ${mb} MB`)
    .join(
      ', ',
    )}; others ${512} MB), arm64. Each poller receive is a ReceiveMessage, a DeleteMessageBatch and one invoke. **Left out:** events out (off in the timed mode), the pollers' empty receives, CloudWatch Logs, storage, data transfer, and the free tiers.`,
  '',
  '## Where the time goes (step medians, ms)',
  '',
  'entry: request sent → record created; decide: created → decision written; settle: decision → the last ack on the record; answer: → the client has it (the API’s next re-read, then HTTP out).',
  '',
  '| run | entry | decide | settle | answer | request → answer p50 |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...[
    ...calibration.map(({ clients, model }) => [`emulator, ${clients} client(s)`, model] as const),
    ...open.map(({ perS, model }) => [`aws, ${perS.toLocaleString('en')}/s`, model] as const),
  ].map(
    ([label, m]) =>
      `| ${label} | ${fixed(m.stepsP50Ms.entry)} | ${fixed(m.stepsP50Ms.decide)} | ${fixed(m.stepsP50Ms.complete)} | ${fixed(m.stepsP50Ms.answer)} | ${fixed(m.latencyMs.p50)} |`,
  ),
  '',
  '## Requests per committed transfer, by kind',
  '',
  'A port call by its kind; `receive (…)` is a poll of an event source (ReceiveMessage, DeleteMessage, Lambda:Invoke: 3 requests, once per batch); `api` the gateway and the invoke; the API’s re-reads while it holds a `?wait` answer open are among the reads.',
  '',
  ...(() => {
    const runs = [
      ...calibration.map(({ clients, model }) => [`emulator c=${clients}`, model] as const),
      ...open.map(({ perS, model }) => [`aws ${perS}/s`, model] as const),
    ];
    const kinds = [...new Set(runs.flatMap(([, m]) => Object.keys(m.requestsByKind)))].sort();
    return [
      `| request | ${runs.map(([label]) => label).join(' | ')} |`,
      `| --- | ${runs.map(() => '---:').join(' | ')} |`,
      ...kinds.map(
        (kind) => `| ${kind} | ${runs.map(([, m]) => fixed(m.requestsByKind[kind] ?? 0, 1)).join(' | ')} |`,
      ),
      `| total | ${runs.map(([, m]) => fixed(m.requestsPerTransfer, 1)).join(' | ')} |`,
    ];
  })(),
  '',
];
writeFileSync(values.out, lines.join('\n'));
log(`wrote ${values.out}`);
