/**
 * `npm run bench`: Tandem next to its baselines, on one emulator, in one run. Starts the embedded
 * emulator (or uses AWS_ENDPOINT_URL / TANDEM_ENDPOINT), deploys the app with `-c bench=on`
 * (metered functions, the hand-rolled TransactWriteItems baseline and the hop chain), runs every
 * workload closed-loop at each concurrency, measures the hop, the bundles and their cold starts,
 * and writes bench/results/latest.{json,md} and bench/results/latency.svg.
 *
 *   npm run bench -- --concurrency 1,8,32 --duration-s 20
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { analyse } from '../dev/bench/analysis';
import { functionsOfAssembly, measureColdStarts } from '../dev/bench/cold-start';
import { renderLatencySvg } from '../dev/bench/plot';
import { loadPrices } from '../dev/bench/prices';
import { renderJson, renderMarkdown, renderReadmeSummary, spliceReadme } from '../dev/bench/report';
import { DEFAULT_BENCH_OPTIONS, runBench } from '../dev/bench/run';
import type { BenchResult, Workload } from '../dev/bench/types';
import { WORKLOAD_FACTS, WORKLOADS } from '../dev/bench/workloads';
import { deployLocal, LOCAL_STACK } from '../dev/deploy';
import { type Emulator, freePort, ROOT, SetupError, startEmulator } from '../dev/emulator';
import { paymentServiceOf } from '../dev/payments-service';

const log = (line: string) => console.log(`[bench] ${line}`);

/**
 * Hops on the two-phase critical path after the API's own write, up to the terminal answer a
 * waiting client gets: Prepare reaches the participants (which write and vote), the votes reach the
 * coordinator (which writes the decision), Commit reaches the participants (which apply it and
 * ack), the acks reach the coordinator (which writes the terminal state).
 */
export const TWO_PHASE_CRITICAL_PATH_HOPS = 4;

const d = DEFAULT_BENCH_OPTIONS;
const USAGE = `usage: npm run bench -- [options]
  --concurrency LIST   closed-loop clients per run, comma-separated (default ${d.concurrencies.join(',')})
  --duration-s N       measured seconds per run (default ${d.durationMs / 1000})
  --workloads LIST     of ${WORKLOADS.join(', ')} (default all; direct-events needs events on)
  --hop-chains N       chains measured for the hop time (default ${d.hopChains})
  --events on|off      deploy with events out on (default) or off, e.g. to compare the fast path
                       with the hand-rolled baseline feature for feature
  --out DIR            where the report goes (default bench/results)
  --docs               also put the summary into docs/benchmarks.md (between the bench markers)
  --from FILE          measure nothing: re-analyse and re-render a stored latest.json`;

function positiveInts(raw: string | undefined, name: string, fallback: readonly number[]): number[] {
  if (raw === undefined) return [...fallback];
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1 || v > 256)) {
    throw new SetupError(`--${name} must list integers in 1..256, got '${raw}'\n${USAGE}`);
  }
  return values;
}

/** A one-line progress bar on a terminal; a line every few seconds otherwise (CI logs). */
function progressBar(): (label: string, fraction: number, committed: number) => void {
  let lastLine = 0;
  let lastLabel = '';
  return (label, fraction, committed) => {
    const width = 30;
    const filled = Math.round(fraction * width);
    const text = `${label.padEnd(16)} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${Math.round(
      fraction * 100,
    )
      .toString()
      .padStart(3)}%  ${committed} done`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r[bench] ${text}${fraction >= 1 ? '\n' : ''}`);
    } else if (label !== lastLabel || fraction >= 1 || Date.now() - lastLine > 5_000) {
      lastLine = Date.now();
      lastLabel = label;
      process.stderr.write(`[bench] ${text}\n`);
    }
  };
}

function parseOptions() {
  return parseArgs({
    options: {
      concurrency: { type: 'string' },
      'duration-s': { type: 'string' },
      workloads: { type: 'string' },
      'hop-chains': { type: 'string' },
      out: { type: 'string' },
      events: { type: 'string' },
      docs: { type: 'boolean' },
      from: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}

/** Analyses `result` and writes latest.{json,md} and latency.svg to `outDir` (and the summary in docs/benchmarks.md). */
function writeReport(result: BenchResult, outDir: string, docs: boolean): void {
  const prices = loadPrices();
  const analysis = analyse(result, prices, {
    participants: 2,
    criticalPathHops: TWO_PHASE_CRITICAL_PATH_HOPS,
  });
  mkdirSync(outDir, { recursive: true });
  const markdown = renderMarkdown(result, analysis, prices);
  writeFileSync(join(outDir, 'latest.json'), renderJson(result, analysis));
  writeFileSync(join(outDir, 'latest.md'), markdown);
  writeFileSync(join(outDir, 'latency.svg'), renderLatencySvg(result));
  console.log(`\n${markdown}`);
  log(`report written to ${outDir}/latest.{json,md} and latency.svg`);
  if (docs) {
    const docsPath = join(ROOT, 'docs', 'benchmarks.md');
    // The link is read from docs/, so it is relative to docs/ (not to the repository's root).
    const plot = relative(dirname(docsPath), join(outDir, 'latency.svg'));
    const summary = renderReadmeSummary(result, analysis, prices, plot);
    writeFileSync(docsPath, spliceReadme(readFileSync(docsPath, 'utf8'), summary));
    log('docs/benchmarks.md updated');
  }
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions();
  } catch (error) {
    throw new SetupError(`${(error as Error).message}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const events = values.events ?? 'on';
  if (events !== 'on' && events !== 'off') throw new SetupError(`--events must be on or off\n${USAGE}`);
  // A workload that puts its outcome on the bus needs the bus: not with --events off.
  const workloads = (values.workloads?.split(',').map((w) => w.trim()) ??
    WORKLOADS.filter((w) => events === 'on' || !WORKLOAD_FACTS[w].needsEvents)) as Workload[];
  for (const w of workloads) {
    if (!WORKLOADS.includes(w)) throw new SetupError(`unknown workload '${w}'\n${USAGE}`);
    if (WORKLOAD_FACTS[w].needsEvents && events === 'off') {
      throw new SetupError(`workload ${w} needs the event bus: not with --events off\n${USAGE}`);
    }
  }
  const [durationS] = positiveInts(values['duration-s'], 'duration-s', [d.durationMs / 1000]);
  const [hopChains] = positiveInts(values['hop-chains'], 'hop-chains', [d.hopChains]);
  const options = {
    ...d,
    workloads,
    concurrencies: positiveInts(values.concurrency, 'concurrency', d.concurrencies),
    durationMs: (durationS ?? 20) * 1000,
    hopChains: hopChains ?? d.hopChains,
    log,
    progress: progressBar(),
  };
  const outDir = values.out ?? join(ROOT, 'bench', 'results');
  if (values.from) {
    let stored: { result?: BenchResult };
    try {
      stored = JSON.parse(readFileSync(values.from, 'utf8'));
    } catch (error) {
      throw new SetupError(`cannot read ${values.from}: ${(error as Error).message}`);
    }
    if (!stored.result?.runs) throw new SetupError(`${values.from} is not a bench report (latest.json)`);
    writeReport(stored.result, outDir, values.docs === true);
    return;
  }

  let emulator: Emulator | undefined;
  try {
    emulator = await startEmulator({ log });
    const deployment = await deployLocal(emulator.endpoint, log, [
      '-c',
      'bench=on',
      '-c',
      `events=${events}`,
      // The checkout's payment service, served here on loopback (workload https).
      '-c',
      `paymentsPort=${await freePort()}`,
    ]);
    log(`API at ${deployment.apiUrl}`);
    const payments = workloads.includes('https') ? paymentServiceOf(deployment) : undefined;
    await payments?.start();
    const measured = await runBench(deployment, options).finally(() => payments?.close());

    log('measuring bundle sizes and module initialisation …');
    const port = new URL(emulator.endpoint).port || '4566';
    const functions = functionsOfAssembly(join(ROOT, 'cdk.local.out', port), LOCAL_STACK);
    const result = {
      ...measured,
      ...(events === 'off' ? { deployment: 'events=off (no events out)' } : {}),
      coldStarts: measureColdStarts(functions, { runs: 5 }),
    };

    writeReport(result, outDir, values.docs === true);
  } finally {
    await emulator?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[bench] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
    process.exit(2);
  },
);
