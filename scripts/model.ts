/**
 * The model (`npm run model`): the simulation in its timed mode (sim/model.ts), swept over a few
 * points, written as a markdown report (bench/results/model.md; `--out FILE` elsewhere):
 *
 *   1. calibration — the emulator profile, closed loop at 1, 8 and 32 clients, beside the emulator
 *      bench's own two-phase rows (bench/results/latest.md);
 *   2. AWS — the aws profile, open loop at 10, 100 and 1,000 transactions/s;
 *   3. the default FIFO queue's send quota; a hot account (a share of transfers debit one account);
 *      the slot count (16 → 1,024) at 1,000 transactions/s.
 *
 * A MODEL, not a measurement of AWS: what it assumes and where each figure comes from is
 * docs/model.md. Every run keeps the simulation's invariant checks on; a violation fails the script.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchTwoPhase, CALIBRATION_RUN, CALIBRATION_TOLERANCE } from '../sim/calibration';
import { type ModelSummary, runModel } from '../sim/model';
import { AWS, AWS_DEFAULT_FIFO, EMULATOR } from '../sim/profile';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'bench/results/model.md' } },
});

const CLIENTS = [1, 8, 32];
const RATES_PER_S = [10, 100, 1_000];
/** Offered rates for the default FIFO queue's quota: under and over its bound of 75 transfers/s. */
const QUOTA_RATES_PER_S = [50, 100];
/** Shares of 100 transfers/s that debit one hot account: below and at the knee. */
const HOT_SHARES = [0, 0.05, 0.1, 0.15];
const HOT_RATE_PER_S = 100;
/** Slot counts at 1,000 transfers/s (64, the stack's default, is the open-loop row above). */
const SLOT_COUNTS = [16, 256, 1_024];
const SLOTS_RATE_PER_S = 1_000;
/** The open-loop runs: long enough for a steady state at 1,000/s, short enough for CPU minutes. */
const OPEN_RUN = { seed: 1, durationMs: 6_000, warmupMs: 2_000, accounts: 1_000, slotCount: 64 };

const bench = benchTwoPhase(readFileSync('bench/results/latest.md', 'utf8'));
const started = performance.now();
const log = (line: string) => console.error(`[model] ${line}`);

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

function checked(label: string, summary: ModelSummary): ModelSummary {
  log(
    `${label}: ${fixed(summary.perS, 1)} tx/s, p50 ${fixed(summary.latencyMs.p50)} ms, p99 ${fixed(summary.latencyMs.p99)} ms (${fixed(summary.elapsedMs / 1000, 1)} s)`,
  );
  if (summary.violations.length > 0) {
    console.error(summary.violations.join('\n'));
    process.exit(1);
  }
  return summary;
}

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

const slots: Array<{ slotCount: number; model: ModelSummary }> = [
  { slotCount: OPEN_RUN.slotCount, model: open.find(({ perS }) => perS === SLOTS_RATE_PER_S)!.model },
];
for (const slotCount of SLOT_COUNTS) {
  const model = await runModel({
    seed: OPEN_RUN.seed,
    timed: { ...OPEN_RUN, slotCount, profile: AWS, load: { kind: 'open', perS: SLOTS_RATE_PER_S } },
  });
  slots.push({ slotCount, model: checked(`aws, ${SLOTS_RATE_PER_S}/s over ${slotCount} slots`, model) });
}
slots.sort((a, b) => a.slotCount - b.slotCount);

const partitionWaits = (model: ModelSummary) =>
  `${model.partitionWaits.writes} (${fixed(model.partitionWaits.meanMs, 1)})`;

const ratio = (model: number, measured: number | undefined) =>
  measured === undefined ? '—' : `${fixed(model / measured, 2)}`;
const mark = (model: number, measured: number | undefined) =>
  measured !== undefined && Math.abs(model / measured - 1) <= CALIBRATION_TOLERANCE ? '✓' : '✗';

const lines = [
  '# Tandem on AWS: the model',
  '',
  `Generated by \`npm run model\` in ${fixed((performance.now() - started) / 1000)} s. **A model, not a measurement**: the deterministic simulation's World in its timed mode — the real shells over the in-memory adapters, fault-free, each port call and hop timed by a profile. Profiles, their sources and assumptions: [docs/model.md](../../docs/model.md).`,
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
  '| offered tx/s | committed tx/s | aborted | p50 ms | p95 ms | p99 ms | requests/transfer | cold starts | writes that waited for a partition (mean ms) | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...open.map(
    ({ perS, model }) =>
      `| ${perS.toLocaleString('en')} | ${fixed(model.perS, 1)} | ${model.aborted} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.requestsPerTransfer, 1)} | ${model.coldStarts} | ${partitionWaits(model)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  '## AWS profile with a default FIFO queue (300 SendMessage/s)',
  '',
  'The rows above assume a FIFO queue that takes every send (high-throughput mode). The stack deploys a default one: 300 SendMessage calls/s, and a transfer sends 4 to it (2 votes, 2 acks), so it carries at most 75 transfers/s. Over that bound the sends queue (the model queues them; AWS throttles and the SDK retries), and latency grows for as long as the load lasts. These runs are not in a steady state. Acks are sent after the client is answered, so throughput counted by answers overstates what the queue sustains while their backlog grows.',
  '',
  '| offered tx/s | answered tx/s | aborted | p50 ms | p95 ms | p99 ms | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...quota.map(
    ({ perS, model }) =>
      `| ${perS} | ${fixed(model.perS, 1)} | ${model.aborted} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
  '',
  '## A hot account (AWS profile)',
  '',
  `${HOT_RATE_PER_S} transfers/s offered as above; a share of them debit one account (the hot one), the others two random accounts. Every write of an account item waits its turn at the item's partition (1,000 write units/s; 2 units a transactional item), and a write that completes while a transactional write of one of its items is in flight is cancelled (TransactionConflict) and retried after a backoff. Hot and other transfers are counted apart.`,
  '',
  '| hot share | hot tx/s offered | hot: committed tx/s | hot p50 ms | hot p99 ms | others: committed tx/s | others p50 ms | others p99 ms | conflicts/transfer | writes that waited for a partition (mean ms) | aborted | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...hot.map(({ share, model }) => {
    const h = model.byHot!.hot;
    const o = model.byHot!.other;
    return `| ${share * 100} % | ${fixed(share * HOT_RATE_PER_S)} | ${fixed(h.perS, 1)} | ${fixed(h.p50Ms)} | ${fixed(h.p99Ms)} | ${fixed(o.perS, 1)} | ${fixed(o.p50Ms)} | ${fixed(o.p99Ms)} | ${fixed(model.conflictsPerTransfer, 2)} | ${partitionWaits(model)} | ${model.aborted} | ${fixed(model.elapsedMs / 1000, 1)} |`;
  }),
  '',
  '## Slots (AWS profile)',
  '',
  `${SLOTS_RATE_PER_S.toLocaleString('en')} transfers/s offered as above, over a number of slots (FIFO message groups: one coordinator batch in flight per group; as many coordinator environments as slots, up to the Lambda concurrency of 1,000).`,
  '',
  '| slots | committed tx/s | p50 ms | p95 ms | p99 ms | decide p50 ms | cold starts | CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...slots.map(
    ({ slotCount, model }) =>
      `| ${slotCount.toLocaleString('en')} | ${fixed(model.perS, 1)} | ${fixed(model.latencyMs.p50)} | ${fixed(model.latencyMs.p95)} | ${fixed(model.latencyMs.p99)} | ${fixed(model.stepsP50Ms.decide)} | ${model.coldStarts} | ${fixed(model.elapsedMs / 1000, 1)} |`,
  ),
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
