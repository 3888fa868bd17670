/**
 * `npm run chaos`: the fault-injected bank workload. Starts the embedded emulator (or uses
 * AWS_ENDPOINT_URL / TANDEM_ENDPOINT), deploys the app with the test settings (fault plans on,
 * short timeouts) like the test suite does, runs the workload, prints the report and exits
 * non-zero on any violation.
 *
 *   npm run chaos -- --transfers 5000 --seed 7 --json /tmp/chaos.json
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatReport } from '../dev/chaos/report';
import { DEFAULT_OPTIONS, runChaos } from '../dev/chaos/run';
import { CHAOS_CONFLICTS_MAX } from '../dev/chaos/workload';
import { deployLocal, TEST_CONTEXT } from '../dev/deploy';
import { type Emulator, SetupError, startEmulator } from '../dev/emulator';

const log = (line: string) => console.log(`[chaos] ${line}`);

const USAGE = `usage: npx tsx scripts/chaos.ts [options]
  --seed N                 seed of the workload and the fault plans (default ${DEFAULT_OPTIONS.seed})
  --transfers N            transfers to make (default ${DEFAULT_OPTIONS.transfers})
  --accounts N             accounts, spread over the ledger shards (default ${DEFAULT_OPTIONS.accounts})
  --clients N              concurrent clients (default ${DEFAULT_OPTIONS.clients})
  --client-wait-s N        each POST waits up to N s for the outcome before the next (default ${DEFAULT_OPTIONS.clientWaitS})
  --crash-rate P           probability of each crash point per transaction (default ${DEFAULT_OPTIONS.rates.crash})
  --drop-rate P            probability of each drop point per transaction (default ${DEFAULT_OPTIONS.rates.drop})
  --duplicate-rate P       probability that a transaction's messages are all sent twice (default ${DEFAULT_OPTIONS.rates.duplicate})
  --conflict-rate P        probability of each conflict point per transaction, 1 to ${CHAOS_CONFLICTS_MAX} conflicts (default ${DEFAULT_OPTIONS.rates.conflict})
  --takeover-every-ms N    force a lease takeover this often while the workload runs; 0 for none (default ${DEFAULT_OPTIONS.takeoverEveryMs})
  --quiesce-timeout-s N    how long to wait for every transaction to be terminal (default ${DEFAULT_OPTIONS.quiesceTimeoutMs / 1000})
  --json PATH              also write the report as JSON`;

function numberOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new SetupError(`--${name} must be a non-negative number\n${USAGE}`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: Object.fromEntries(
      [
        'seed',
        'transfers',
        'accounts',
        'clients',
        'client-wait-s',
        'crash-rate',
        'drop-rate',
        'duplicate-rate',
        'conflict-rate',
        'takeover-every-ms',
        'quiesce-timeout-s',
        'json',
      ].map((name) => [name, { type: 'string' as const }]),
    ),
    strict: true,
  });
  const d = DEFAULT_OPTIONS;
  const options = {
    ...d,
    seed: numberOption(values, 'seed', d.seed),
    transfers: numberOption(values, 'transfers', d.transfers),
    accounts: numberOption(values, 'accounts', d.accounts),
    clients: numberOption(values, 'clients', d.clients),
    clientWaitS: numberOption(values, 'client-wait-s', d.clientWaitS),
    rates: {
      ...d.rates,
      crash: numberOption(values, 'crash-rate', d.rates.crash),
      drop: numberOption(values, 'drop-rate', d.rates.drop),
      duplicate: numberOption(values, 'duplicate-rate', d.rates.duplicate),
      conflict: numberOption(values, 'conflict-rate', d.rates.conflict),
    },
    takeoverEveryMs: numberOption(values, 'takeover-every-ms', d.takeoverEveryMs),
    quiesceTimeoutMs: numberOption(values, 'quiesce-timeout-s', d.quiesceTimeoutMs / 1000) * 1000,
    log,
  };

  let emulator: Emulator | undefined;
  try {
    emulator = await startEmulator({ log });
    const deployment = await deployLocal(emulator.endpoint, log, TEST_CONTEXT);
    log(`API at ${deployment.apiUrl}`);
    const report = await runChaos(deployment, options);
    console.log(formatReport(report));
    if (typeof values.json === 'string') {
      writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`report written to ${values.json}`);
    }
    return report.violations.length === 0 ? 0 : 1;
  } finally {
    await emulator?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[chaos] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
    process.exit(2);
  },
);
