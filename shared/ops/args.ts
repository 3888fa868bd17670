import { UsageError } from './errors';
import { parseDurationMs } from './format';

/**
 * The command line of the operator CLI: which commands exist, their arguments and options, their
 * help texts, and a parser that turns argv into a checked `Invocation` (or a UsageError). Pure.
 */

export type OptionKind = 'string' | 'flag' | 'duration' | 'count';

export interface OptionSpec {
  readonly name: string;
  readonly kind: OptionKind;
  readonly help: string;
  /** Placeholder in the usage line, e.g. `60s`. */
  readonly value?: string;
}

export interface CommandSpec {
  /** `stuck`, `show`, `dlq list`, … */
  readonly name: string;
  readonly args: readonly string[];
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** More lines of help after the options. */
  readonly details?: readonly string[];
}

const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'stack',
    kind: 'string',
    value: 'name',
    help: 'CloudFormation stack to operate on (default Tandem-local when an emulator endpoint is set)',
  },
  {
    name: 'endpoint',
    kind: 'string',
    value: 'url',
    help: 'AWS endpoint, e.g. http://localhost:4566 (default: TANDEM_ENDPOINT, then AWS_ENDPOINT_URL)',
  },
  { name: 'help', kind: 'flag', help: 'show help' },
];

const json: OptionSpec = { name: 'json', kind: 'flag', help: 'print JSON instead of text' };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'stuck',
    args: [],
    summary: 'list unfinished transactions that are overdue or old',
    options: [
      {
        name: 'older-than',
        kind: 'duration',
        value: 'duration',
        help: 'threshold: next check overdue by more than this, or created longer ago (default 60s)',
      },
      { name: 'limit', kind: 'count', value: 'N', help: 'print at most N, oldest first (default 50)' },
      json,
    ],
    details: [
      'Reads the sparse `due` index (only unfinished transactions are in it, in every slot they hold,',
      'also slots beyond the current slot count), then the records. MISSING lists the participants',
      'whose vote (before the decision) or ack (after) is missing.',
    ],
  },
  {
    name: 'show',
    args: ['txId'],
    summary: 'show one transaction: state, participants, votes, acks and its timeline',
    options: [json],
  },
  {
    name: 'retry',
    args: ['txId'],
    summary: "enqueue a Check for an unfinished transaction into its slot's FIFO group",
    options: [],
    details: [
      'The coordinator then re-drives whatever is missing: Prepare to the participants that have not',
      'voted, or the decision to those that have not acked. A Check that arrives before the',
      "transaction's next check time is ignored (the scheduled check does the work then). Refused for an",
      'unknown or finished transaction.',
    ],
  },
  {
    name: 'abort',
    args: ['txId'],
    summary: 'abort a transaction that has no decision yet (PREPARING)',
    options: [
      {
        name: 'note',
        kind: 'string',
        value: 'text',
        help: 'recorded in the reason: "aborted by operator: <text>"',
      },
      {
        name: 'wait',
        kind: 'duration',
        value: 'duration',
        help: 'wait up to this long for the decision to be recorded (default: do not wait)',
      },
    ],
    details: [
      'A recorded decision can never be changed: for a COMMITTING, COMMITTED, ABORTING or ABORTED',
      'transaction the command refuses (exit 1) and the decision stands.',
    ],
  },
  {
    name: 'dlq list',
    args: [],
    summary: 'list every dead-letter queue of the stack with its approximate message count',
    options: [json],
  },
  {
    name: 'dlq show',
    args: ['queue'],
    summary: 'peek at the messages of a DLQ without consuming them',
    options: [{ name: 'max', kind: 'count', value: 'N', help: 'show at most N messages (default 10)' }, json],
    details: [
      '<queue> is a short name from `dlq list`: coordinator, timers, ledger-0, inventory, …',
      'Messages are received with a 30 s visibility timeout and made visible again at once afterwards',
      '(ChangeMessageVisibility 0); each peek counts as a receive. Of a FIFO DLQ, a peek sees at most',
      '10 messages per message group.',
    ],
  },
  {
    name: 'dlq redrive',
    args: ['queue'],
    summary: 'move messages of a DLQ back to its source queue',
    options: [
      { name: 'all', kind: 'flag', help: 'move every message (default: at most --max)' },
      { name: 'max', kind: 'count', value: 'N', help: 'without --all, move at most N messages (default 10)' },
      {
        name: 'wait',
        kind: 'duration',
        value: 'duration',
        help: 'with --all on AWS: how long to follow the message move task (default 60s)',
      },
    ],
    details: [
      '--all uses an SQS message move task (StartMessageMoveTask) where the endpoint has it; otherwise,',
      'and without --all, messages are received, re-sent to the source queue (same body, attributes and',
      'FIFO message group, a fresh deduplication id) and deleted from the DLQ, 10 at a time. A message',
      'that fails again comes back to the DLQ; the bounded count means it is not moved twice in one run.',
    ],
  },
  {
    name: 'events republish',
    args: [],
    summary: 'announce again the outcomes of transactions that ended in a time range (events out)',
    options: [
      {
        name: 'since',
        kind: 'duration',
        value: 'duration',
        help: 'the transactions that ended this long ago or since, e.g. 2h',
      },
      {
        name: 'from-dlq',
        kind: 'flag',
        help: "the time ranges of the stream batches events out gave up on (the events DLQ's messages)",
      },
    ],
    details: [
      'Give exactly one of --since and --from-dlq. The outcomes are read from the transaction log (a Scan',
      'of the whole table, billed by the size of the table) and put on the bus with their usual eventId,',
      'so a subscriber that received one already drops it as a duplicate. With --from-dlq, each message',
      "names a batch's first and last arrival times; the range is widened by a minute on each side, and",
      'the messages are deleted once every outcome was put (kept for a rerun otherwise).',
    ],
  },
];

export type CommandName =
  | 'stuck'
  | 'show'
  | 'retry'
  | 'abort'
  | 'dlq list'
  | 'dlq show'
  | 'dlq redrive'
  | 'events republish';

/** Commands that are a group and a subcommand, e.g. `dlq list`. */
const GROUPS: Readonly<Record<string, string>> = {
  dlq: 'list, show or redrive',
  events: 'republish',
};

/** The command `positionals` name: two words for a group (`dlq show`), else one. */
function nameOf(positionals: readonly string[]): string | undefined {
  const first = positionals[0];
  if (first === undefined) return undefined;
  return first in GROUPS ? `${first} ${positionals[1] ?? ''}`.trim() : first;
}

export type OptionValue = string | number | boolean;

export interface Invocation {
  /** null: the overview was asked for (`--help` without a command, or `help`). */
  readonly command: CommandName | null;
  readonly help: boolean;
  readonly args: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, OptionValue>>;
}

const ALL_OPTIONS = new Map<string, OptionSpec>(
  [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)].map((o) => [o.name, o]),
);

function specOf(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Parses argv (without `node script`). Options may come before or after the command. */
export function parseArgs(argv: readonly string[]): Invocation {
  const positionals: string[] = [];
  const raw: Array<[string, string | true]> = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') {
      raw.push(['help', true]);
      continue;
    }
    if (!token.startsWith('--') || token === '--') {
      if (token.startsWith('-') && token.length > 1) throw new UsageError(`unknown option ${token}`);
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq < 0 ? undefined : eq);
    const spec = ALL_OPTIONS.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`, commandOf(positionals));
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`, commandOf(positionals));
      raw.push([name, true]);
      continue;
    }
    const value = eq >= 0 ? token.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value (${spec.value ?? 'text'})`, commandOf(positionals));
    }
    raw.push([name, value]);
  }

  const help = raw.some(([name]) => name === 'help');
  if (positionals[0] === 'help') {
    const topic = positionals.slice(1).join(' ');
    if (topic === '') return { command: null, help: true, args: {}, options: {} };
    if (!specOf(topic)) throw new UsageError(`no command '${topic}'`);
    return { command: topic as CommandName, help: true, args: {}, options: {} };
  }
  if (positionals.length === 0) {
    if (help) return { command: null, help: true, args: {}, options: {} };
    throw new UsageError('no command given');
  }

  const name = nameOf(positionals)!;
  const spec = specOf(name);
  if (!spec) {
    const subcommands = GROUPS[name];
    if (subcommands !== undefined) {
      if (help) return { command: null, help: true, args: {}, options: {} };
      throw new UsageError(`${name} needs a subcommand: ${subcommands}`);
    }
    throw new UsageError(`unknown command '${name}'`);
  }
  const command = spec.name as CommandName;
  if (help) return { command, help: true, args: {}, options: {} };

  const given = positionals.slice(name.split(' ').length);
  if (given.length < spec.args.length) {
    throw new UsageError(`missing <${spec.args[given.length]}>`, command);
  }
  if (given.length > spec.args.length) {
    throw new UsageError(`unexpected argument '${given[spec.args.length]}'`, command);
  }
  const args = Object.fromEntries(spec.args.map((arg, i) => [arg, given[i]!]));
  for (const [arg, value] of Object.entries(args)) {
    if (value.trim() === '') throw new UsageError(`<${arg}> must not be empty`, command);
  }

  const allowed = new Map([...GLOBAL_OPTIONS, ...spec.options].map((o) => [o.name, o]));
  const options: Record<string, OptionValue> = {};
  for (const [optionName, value] of raw) {
    const option = allowed.get(optionName);
    if (!option) throw new UsageError(`${command} has no option --${optionName}`, command);
    if (optionName in options) throw new UsageError(`--${optionName} given twice`, command);
    options[optionName] = convert(option, value, command);
  }
  return { command, help: false, args, options };
}

function convert(option: OptionSpec, value: string | true, command: string): OptionValue {
  if (value === true) return true;
  switch (option.kind) {
    case 'flag':
      return true;
    case 'string':
      if (value.trim() === '') throw new UsageError(`--${option.name} must not be empty`, command);
      return value;
    case 'duration': {
      const ms = parseDurationMs(value);
      if (ms === undefined) {
        throw new UsageError(
          `--${option.name} must be a duration like 500ms, 30s, 5m, 1h or 2d, got '${value}'`,
          command,
        );
      }
      return ms;
    }
    case 'count': {
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < 1) {
        throw new UsageError(`--${option.name} must be a positive integer, got '${value}'`, command);
      }
      return n;
    }
  }
}

/** The command named so far in `positionals`, for the usage shown with an error. */
function commandOf(positionals: readonly string[]): string | undefined {
  const name = nameOf(positionals);
  return name && specOf(name) ? name : undefined;
}

// ─── Help ────────────────────────────────────────────────────────────────────────────────────

const PROGRAM = 'npm run ops --';

function usageLine(spec: CommandSpec): string {
  const args = spec.args.map((a) => `<${a}>`);
  const options = spec.options.map((o) => (o.kind === 'flag' ? `[--${o.name}]` : `[--${o.name} ${o.value}]`));
  return [PROGRAM, spec.name, ...args, ...options].join(' ');
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const label = (o: OptionSpec) => (o.kind === 'flag' ? `--${o.name}` : `--${o.name} <${o.value}>`);
  const width = Math.max(...options.map((o) => label(o).length));
  return options.map((o) => `  ${label(o).padEnd(width)}  ${o.help}`);
}

/** The help of one command, or the overview. */
export function helpText(command?: string | null): string {
  const spec = command ? specOf(command) : undefined;
  if (!spec) {
    const width = Math.max(...COMMANDS.map((c) => c.name.length + c.args.join(' ').length + 3));
    return [
      'Tandem operator tools',
      '',
      `Usage: ${PROGRAM} <command> [options]      (or: npx tsx scripts/ops.ts <command> [options])`,
      '',
      'Commands:',
      ...COMMANDS.map(
        (c) => `  ${`${c.name} ${c.args.map((a) => `<${a}>`).join(' ')}`.padEnd(width)}  ${c.summary}`,
      ),
      '',
      'Options of every command:',
      ...optionLines(GLOBAL_OPTIONS),
      '',
      'Table names and queue URLs come from the stack outputs; the region and credentials from the usual',
      'AWS SDK settings (AWS_REGION, AWS_PROFILE, …). Against an emulator endpoint without credentials,',
      'the emulator test credentials and us-east-1 are used.',
      '',
      'Exit status: 0 done, 1 refused or AWS failed, 2 bad arguments.',
      `Help on a command: ${PROGRAM} <command> --help`,
    ].join('\n');
  }
  return [
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    '',
    `Usage: ${usageLine(spec)}`,
    ...(spec.options.length > 0 ? ['', 'Options:', ...optionLines(spec.options)] : []),
    ...(spec.details ? ['', ...spec.details] : []),
    '',
    `Options of every command: --stack <name>, --endpoint <url>, --help (see ${PROGRAM} --help)`,
  ].join('\n');
}
