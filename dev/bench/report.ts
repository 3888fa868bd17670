import { type Analysis, highestRun, type RunAnalysis } from './analysis';
import type { CostLine } from './cost';
import { PHASE_MEANING } from './phases';
import type { PriceTable } from './prices';
import { type BenchResult, type LatencySummary, type Machine, PHASES, type Workload } from './types';
import { WORKLOAD_FACTS, WORKLOADS } from './workloads';

const NONE = '—';

/** A table cell: no pipe or line break may end it early. */
const cell = (text: string) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

const orNone = (value: number | null | undefined, format: (n: number) => string) =>
  value === null || value === undefined || !Number.isFinite(value) ? NONE : format(value);

/** Milliseconds as whole numbers. */
const ms = (n: number) => String(Math.round(n));
/** A latency's p50, p95 and p99, e.g. "p50 20 ms, p95 33 ms, p99 33 ms". */
const tail = (l: LatencySummary) => `p50 ${ms(l.p50)} ms, p95 ${ms(l.p95)} ms, p99 ${ms(l.p99)} ms`;
/** Requests, units and invocations per transfer: one decimal. */
const one = (n: number) => n.toFixed(1);
/** Dollars: two decimals. */
const usd = (n: number) => n.toFixed(2);
const ratio = (n: number) => n.toFixed(2);

function table(
  header: readonly string[],
  align: readonly ('l' | 'r')[],
  rows: readonly (readonly string[])[],
) {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [
    line(header),
    `|${align.map((a) => (a === 'r' ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

function resultsTable(result: BenchResult, analysis: Analysis): string {
  const rows = result.runs.map((run, i) => {
    const a = analysis.runs[i] as RunAnalysis;
    const perTransfer = a.perTransfer;
    return [
      run.workload,
      String(run.concurrency),
      String(run.committed),
      String(run.aborted),
      String(run.failed),
      one(run.throughputPerS),
      ms(run.latency.p50),
      ms(run.latency.p95),
      ms(run.latency.p99),
      orNone(a.requestsPerTransfer, one),
      orNone(perTransfer?.writeUnits, one),
      orNone(perTransfer?.readUnits, one),
      orNone(a.lambdaInvocationsPerTransfer, one),
      orNone(a.costPerMillion, usd),
    ];
  });
  return table(
    [
      'workload',
      'concurrency',
      'committed',
      'aborted',
      'failed',
      'tx/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'requests/transfer',
      'WRU/transfer',
      'RRU/transfer',
      'Lambda invocations/transfer',
      '$ per million transfers',
    ],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
}

/** The workloads that committed anything, each at its highest concurrency. */
function headlineRuns(analysis: Analysis): RunAnalysis[] {
  return WORKLOADS.flatMap((w) => {
    const run = highestRun(analysis, w);
    return run ? [run] : [];
  });
}

function requestsByKindSection(analysis: Analysis): string {
  const runs = headlineRuns(analysis);
  if (runs.length === 0) return 'No workload committed a transfer.';
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.requestsByKind ?? {})))].sort();
  const rows = keys.map((key) => [key, ...runs.map((r) => orNone(r.requestsByKind?.[key] ?? 0, one))]);
  rows.push(['total', ...runs.map((r) => orNone(r.requestsPerTransfer, one))]);
  rows.push([
    'protocol (total without (wait) and (events))',
    ...runs.map((r) => orNone(r.protocolRequestsPerTransfer, one)),
  ]);
  const which = runs.map((r) => `${r.workload} at concurrency ${r.concurrency}`).join(', ');
  return [
    `Each workload at the highest concurrency that committed transfers (${which}). Requests marked ` +
      '`(wait)` are the API re-reading a transaction while it holds a `?wait=N` answer open for the ' +
      'client; `(events)` ones only announce outcomes on the event bus; both are left out of the ' +
      'protocol count (and priced in the cost). `(poller)` requests are those Lambda makes for its ' +
      'SQS event source.',
    '',
    table(
      ['request', ...runs.map((r) => `${r.workload} (c=${r.concurrency})`)],
      ['l', ...runs.map(() => 'r' as const)],
      rows,
    ),
  ].join('\n');
}

function hopSection(result: BenchResult, analysis: Analysis): string {
  const { hop } = result;
  const perHop = analysis.hop.perHop;
  const kinds = perHop
    ? Object.entries(perHop.requests)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, n]) => `${key} ${one(n)}`)
        .join(', ')
    : '';
  return [
    'One hop is a conditional write plus an SQS send and the receive that triggers the next Lambda.',
    `${hop.chains} chains × ${hop.hopsPerChain} hops (${analysis.hop.hops} hops): ` +
      `${tail(hop.hopMs)}, max ${ms(hop.hopMs.max)} ms.`,
    perHop
      ? `Per hop: ${orNone(analysis.hop.requestsPerHop, one)} requests (${kinds || 'none'}), ` +
        `${one(perHop.writeUnits)} WRU, ${one(perHop.readUnits)} RRU.`
      : 'No hops were measured.',
    ...(result.loadedHops ?? []).map(
      (loaded) =>
        `Under load, ${loaded.concurrency} chains at once (${loaded.chains} chains × ${loaded.hopsPerChain} hops): ` +
        `${tail(loaded.hopMs)}.`,
    ),
    ...result.runs.flatMap(({ workload, concurrency, hopAlongside: along }) =>
      along
        ? [
            `During the ${workload} run at ${concurrency} clients, one chain at a time ` +
              `(${along.chains} chains × ${along.hopsPerChain} hops): ${tail(along.hopMs)}.`,
          ]
        : [],
    ),
  ].join('\n');
}

/** Two-phase runs' time, step by step (p50 and p95 per step, per concurrency); null if none has it. */
function phasesSection(result: BenchResult): string | null {
  const runs = result.runs.filter(
    (run) => run.workload === 'two-phase' && run.phases && run.phases.entry.count > 0,
  );
  if (runs.length === 0) return null;
  return [
    'Each committed two-phase transfer’s answer carries the record’s times (created, each vote noted, ' +
      'decided, completed); the emulator’s Lambdas and the bench share one clock, so the steps add up to ' +
      'the latency. Step medians do not add up to the latency’s median.',
    '',
    table(
      ['step', ...runs.flatMap((run) => [`p50 ms (c=${run.concurrency})`, `p95 ms (c=${run.concurrency})`])],
      ['l', ...runs.flatMap(() => ['r', 'r'] as const)],
      PHASES.map((phase) => [
        `${phase}: ${PHASE_MEANING[phase]}`,
        ...runs.flatMap((run) => {
          const summary = run.phases?.[phase];
          return [orNone(summary?.p50, ms), orNone(summary?.p95, ms)];
        }),
      ]),
    ),
  ].join('\n');
}

/**
 * What an HTTPS participant costs in time next to a Lambda participant: each step's p50 in the
 * checkout (a ledger shard and the payment service behind its relay) and in the two-phase transfer
 * (two ledger shards) at the same concurrency, and the difference. Null when no concurrency has both.
 */
function relaySection(result: BenchResult): string | null {
  const withPhases = (workload: Workload) =>
    result.runs.filter((run) => run.workload === workload && run.phases && run.phases.entry.count > 0);
  const pairs = withPhases('https').flatMap((https) => {
    const lambda = withPhases('two-phase').find((run) => run.concurrency === https.concurrency);
    return lambda ? [{ https, lambda }] : [];
  });
  if (pairs.length === 0) return null;
  return [
    'The checkout’s participants are a ledger shard and the payment service (an HTTPS participant: ' +
      'its relay function calls the bench’s loopback server); the two-phase transfer’s are two ledger ' +
      'shards. At the same concurrency, the difference of a step’s p50 is what the relay adds to it: ' +
      'its try in `prepare`, its confirm in `apply` (a vote the relay sends is noted by the coordinator, ' +
      'not by the participant, so part of `decide` moves into `prepare`).',
    '',
    table(
      [
        'step',
        ...pairs.flatMap(({ https: run }) => [
          `two-phase p50 ms (c=${run.concurrency})`,
          `checkout p50 ms (c=${run.concurrency})`,
          `added ms (c=${run.concurrency})`,
        ]),
      ],
      ['l', ...pairs.flatMap(() => ['r', 'r', 'r'] as const)],
      PHASES.map((phase) => [
        phase,
        ...pairs.flatMap(({ https, lambda }) => {
          const [a, b] = [lambda.phases?.[phase]?.p50, https.phases?.[phase]?.p50];
          return [
            orNone(a, ms),
            orNone(b, ms),
            a === undefined || b === undefined ? NONE : `${b - a >= 0 ? '+' : ''}${ms(b - a)}`,
          ];
        }),
      ]),
    ),
  ].join('\n');
}

function ratiosSection(analysis: Analysis): string {
  const m = analysis.protocolMinimum;
  const minimum =
    `The protocol minimum for N = ${m.participants} participants is ${m.formula} = ${m.total} billed ` +
    `requests: entry ${m.entry.apiRequests + m.entry.lambdaInvocations + m.entry.recordWrites} ` +
    '(API request, Lambda invocation, transaction record write); ' +
    `${m.messages} protocol messages (Prepare, Vote, Commit, Ack per participant) × ${m.requestsPerMessage} ` +
    `(SendMessage, ReceiveMessage, DeleteMessage, Lambda invocation) = ${m.messageRequests}; ` +
    `${m.participantWrites} participant writes (prepare, commit) + ${m.decisionWrites} decision write.`;
  if (analysis.ratios.length === 0) return `${minimum}\n\nNo runs, no ratios.`;
  const rows = analysis.ratios.map((r) => [
    r.description,
    String(r.concurrency),
    orNone(r.value, ratio),
    `≤ ${r.target}`,
    r.value === null ? NONE : r.met ? '✓' : '✗',
  ]);
  return [
    minimum,
    '',
    table(['ratio', 'concurrency', 'value', 'target', 'met'], ['l', 'r', 'r', 'r', 'l'], rows),
    '',
    `A ${NONE} is a ratio whose workload did not run or committed nothing.`,
  ].join('\n');
}

function costSection(analysis: Analysis, prices: PriceTable): string {
  const runs = headlineRuns(analysis);
  const { saga } = analysis;
  const rows: string[][] = WORKLOADS.map((w) => {
    const run = runs.find((r) => r.workload === w);
    return [
      WORKLOAD_FACTS[w].label,
      orNone(run?.costPerMillion, usd),
      run ? `measured, concurrency ${run.concurrency}` : 'not measured',
    ];
  });
  rows.push([
    'Step Functions Standard saga',
    usd(saga.perMillion),
    `model, N = ${saga.participants}, happy path`,
  ]);

  // Where the money goes: each workload's cost lines, per million transfers.
  const columns: { label: string; lines: readonly CostLine[] }[] = [
    ...runs.map((r) => ({
      label: `${r.workload} (c=${r.concurrency})`,
      lines: r.costPerTransfer?.lines ?? [],
    })),
    { label: 'saga (model)', lines: saga.lines },
  ];
  const items = [...new Set(columns.flatMap((c) => c.lines.map((l) => l.item)))];
  const breakdown = items.map((item) => [
    item,
    ...columns.map((c) => {
      const found = c.lines.find((l) => l.item === item);
      return found ? usd(found.cost * 1_000_000) : NONE;
    }),
  ]);

  return [
    `${prices.currency} per million committed transfers at ${prices.region} on-demand list prices ` +
      `checked ${prices.checked} (free tiers ignored; see bench/prices.json).`,
    '',
    table(['', '$ per million transfers', 'basis'], ['l', 'r', 'l'], rows),
    '',
    'By item, $ per million transfers:',
    '',
    table(['item', ...columns.map((c) => c.label)], ['l', ...columns.map(() => 'r' as const)], breakdown),
    '',
    'The saga model assumes:',
    '',
    ...saga.assumptions.map((a) => `- ${a}`),
  ].join('\n');
}

function coldStartSection(result: BenchResult): string | null {
  if (result.coldStarts.length === 0) return null;
  const rows = [...result.coldStarts]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => [c.name, one(c.bundleBytes / 1024), ms(c.initMs)]);
  return [
    'Bundle size and the median time to load and initialise it in a fresh Node process.',
    '',
    table(['function', 'bundle KiB', 'init ms'], ['l', 'r', 'r'], rows),
  ].join('\n');
}

/** The machine the run was measured on, in one line. */
function machineLine(machine: Machine): string {
  return (
    `${machine.cpus} × ${machine.cpuModel}, ${one(machine.memoryGiB)} GiB, Node ${machine.node}, ` +
    `${machine.os}, emulator ${machine.emulator}`
  );
}

/**
 * The benchmark report as Markdown: results, requests by kind, the hop, the ratios against their
 * targets, the cost comparison, cold starts and the machine. `analysis` is `analyse(result, …)`.
 */
export function renderMarkdown(result: BenchResult, analysis: Analysis, prices: PriceTable): string {
  if (analysis.runs.length !== result.runs.length) {
    throw new Error(`the analysis has ${analysis.runs.length} runs, the result ${result.runs.length}`);
  }
  const sections: [string, string | null][] = [
    ['Results', resultsTable(result, analysis)],
    ['Requests per transfer, by kind', requestsByKindSection(analysis)],
    ['One hop', hopSection(result, analysis)],
    ['Where a two-phase transfer’s time goes', phasesSection(result)],
    ['What an HTTPS participant’s relay adds', relaySection(result)],
    ['Ratios and targets', ratiosSection(analysis)],
    ['Cost per million transfers', costSection(analysis, prices)],
    ['Cold starts', coldStartSection(result)],
  ];
  const body = sections
    .filter((s): s is [string, string] => s[1] !== null)
    .map(([title, text]) => `## ${title}\n\n${text}`)
    .join('\n\n');
  return (
    `# Tandem benchmark\n\nRun started ${cell(result.startedAt)}. Closed loop: each client starts its ` +
    'next transfer when the previous one ends. Per-transfer figures divide a run’s totals by its ' +
    `committed transfers (${NONE} where it committed none).` +
    (result.deployment ? ` Deployment: ${cell(result.deployment)}.` : '') +
    `\n\n${body}\n\n` +
    `Machine: ${machineLine(result.machine)}.\n`
  );
}

/**
 * The part of the report the README shows (between `<!-- bench:begin -->` and `<!-- bench:end -->`):
 * results, the two-phase steps, ratios and costs as level-4 sections, the plot, and the machine.
 */
export function renderReadmeSummary(
  result: BenchResult,
  analysis: Analysis,
  prices: PriceTable,
  plotPath: string,
): string {
  const sections: [string, string | null][] = [
    ['Results', resultsTable(result, analysis)],
    ['Where a two-phase transfer’s time goes', phasesSection(result)],
    ['Ratios and targets', ratiosSection(analysis)],
    ['Cost per million transfers', costSection(analysis, prices)],
  ];
  return [
    `Latest run: ${cell(result.startedAt)} on ${machineLine(result.machine)}.` +
      (result.deployment ? ` Deployment: ${cell(result.deployment)}.` : ''),
    ...sections
      .filter((s): s is [string, string] => s[1] !== null)
      .map(([title, text]) => `#### ${title}\n\n${text}`),
    `![Latency by concurrency](${plotPath})`,
  ].join('\n\n');
}

/** Replaces what lies between the bench markers of `readme` with `summary`; throws without markers. */
export function spliceReadme(readme: string, summary: string): string {
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the README has no ${begin} … ${end} section`);
  return `${readme.slice(0, from + begin.length)}\n\n${summary}\n\n${readme.slice(to)}`;
}

/** The result and its analysis as pretty-printed JSON. */
export function renderJson(result: BenchResult, analysis: Analysis): string {
  return `${JSON.stringify({ result, analysis }, null, 2)}\n`;
}
