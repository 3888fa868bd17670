/**
 * The deterministic simulation, from the command line (`npm run sim -- …`):
 *
 *   npx tsx scripts/sim.ts --seed 42            replay one seed: its full trace and verdict
 *   npx tsx scripts/sim.ts --seeds 100000       run seeds 1..100000 and print a summary
 *   npx tsx scripts/sim.ts --seeds 5000 --from 70000
 *   … --fence off | --version off | --barrier off | --event-retry off | --contention-retry off |
 *     --batch-hold off | --relay-timeouts off | --relay-give-up off | --relay-finish-refusals off
 *                                               turn a mechanism off (the teeth switches)
 *   … --json                                    also print the summary as JSON
 *
 * Exit code 1 when any seed violated an invariant; each failing seed is printed with its replay
 * command and the last events of its trace.
 */
import { formatFailure, formatSummary, runSeed, runSeeds, type SimSwitches } from '../sim/run';

function usage(message: string): never {
  console.error(
    `${message}\nusage: tsx scripts/sim.ts (--seed N | --seeds N [--from S]) [--fence off] [--version off] [--barrier off] [--event-retry off] [--contention-retry off] [--batch-hold off] [--relay-timeouts off] [--relay-give-up off] [--relay-finish-refusals off] [--json]`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < args.length; i++) {
  const name = args[i]!;
  if (!name.startsWith('--')) usage(`unexpected argument ${name}`);
  if (name === '--json') {
    flags.set(name.slice(2), 'true');
    continue;
  }
  const value = args[++i];
  if (value === undefined) usage(`${name} needs a value`);
  flags.set(name.slice(2), value);
}
const integer = (name: string, fallback?: number): number => {
  const text = flags.get(name);
  if (text === undefined) {
    if (fallback === undefined) usage(`--${name} is required`);
    return fallback;
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) usage(`--${name} must be a natural number, got ${text}`);
  return value;
};
const onOff = (name: string): boolean => {
  const text = flags.get(name) ?? 'on';
  if (text !== 'on' && text !== 'off') usage(`--${name} must be on or off`);
  return text === 'on';
};
const switches: Partial<SimSwitches> = {
  fenceCheck: onOff('fence'),
  versionCheck: onOff('version'),
  barrierCheck: onOff('barrier'),
  eventRetry: onOff('event-retry'),
  contentionRetry: onOff('contention-retry'),
  batchHold: onOff('batch-hold'),
  relayTimeouts: onOff('relay-timeouts'),
  relayGiveUp: onOff('relay-give-up'),
  relayFinishRefusals: onOff('relay-finish-refusals'),
};

if (flags.has('seed')) {
  const result = await runSeed({ seed: integer('seed'), switches, traceAll: true });
  console.log(result.trace.join('\n'));
  console.log(`\nstats ${JSON.stringify(result.stats)}`);
  if (result.dlq.length > 0) console.log(`dead-lettered, then redriven:\n  ${result.dlq.join('\n  ')}`);
  if (result.violations.length > 0) {
    console.log(`\n${formatFailure(result, switches, 0)}`);
    process.exit(1);
  }
  console.log(`\nseed ${result.seed}: 0 violations`);
} else if (flags.has('seeds')) {
  const seeds = integer('seeds');
  const from = integer('from', 1);
  const summary = await runSeeds({
    from,
    seeds,
    switches,
    failuresKept: 20,
    progressEvery: 10_000,
    onProgress: (done, partial) =>
      console.error(
        `… ${done}/${seeds} seeds, ${(done / (partial.elapsedMs / 1000)).toFixed(0)} seeds/s, ${partial.failures.length} failing`,
      ),
  });
  for (const failure of summary.failures) console.log(`${formatFailure(failure, switches, 40)}\n`);
  console.log(formatSummary(summary));
  if (flags.has('json'))
    console.log(JSON.stringify({ ...summary, failures: summary.failures.map((f) => f.seed) }));
  if (summary.failures.length > 0) process.exit(1);
} else {
  usage('give --seed N or --seeds N');
}
