import { type CommandName, helpText, type Invocation, parseArgs } from './args';
import { awsDeps } from './aws';
import {
  countDlqs,
  formatDlqCounts,
  formatPeeked,
  formatRedrive,
  peekDlq,
  pickDlq,
  redriveDlq,
  stackDlqs,
} from './dlq';
import { AwsCallError, aws, describeAwsError, RefusedError, UsageError } from './errors';
import { formatRepublish, republishFromDlq, republishRanges } from './events';
import { formatDurationMs } from './format';
import type { OpsDeps } from './ports';
import { resolveTarget, type StackNames, stackNamesOf, type Target } from './target';
import {
  abortTransaction,
  findStuck,
  formatStuckTable,
  formatTransaction,
  loadOrRefuse,
  retryTransaction,
  toOperatorView,
} from './transactions';

/**
 * The operator CLI: `main(argv, io)` parses, runs one command, writes to `io`, and returns the
 * exit code (0 done, 1 refused or AWS failed, 2 bad arguments). `scripts/ops.ts` is its entry.
 */

export interface Writable {
  write(text: string): unknown;
}

export interface OpsIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env?: NodeJS.ProcessEnv;
  /** Builds the ports for a target; the AWS SDK adapters by default, fakes in unit tests. */
  readonly connect?: (target: Target, env: NodeJS.ProcessEnv) => OpsDeps;
}

const MAX_NOTE_LENGTH = 500;

export async function main(argv: readonly string[], io: OpsIo): Promise<number> {
  const env = io.env ?? process.env;
  const out = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const err = (text: string) => io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  let invocation: Invocation | undefined;
  try {
    invocation = parseArgs(argv);
    if (invocation.help) {
      out(helpText(invocation.command));
      return 0;
    }
    const command = invocation.command as CommandName;
    const target = resolveTarget(
      {
        ...(typeof invocation.options.stack === 'string' ? { stack: invocation.options.stack } : {}),
        ...(typeof invocation.options.endpoint === 'string' ? { endpoint: invocation.options.endpoint } : {}),
      },
      env,
    );
    const note = invocation.options.note;
    if (typeof note === 'string' && note.length > MAX_NOTE_LENGTH) {
      throw new UsageError(`--note is limited to ${MAX_NOTE_LENGTH} characters`, command);
    }
    const { since, 'from-dlq': fromDlq } = invocation.options;
    if (command === 'events republish' && (since === undefined) === (fromDlq === undefined)) {
      throw new UsageError('give exactly one of --since and --from-dlq', command);
    }
    const deps = (io.connect ?? awsDeps)(target, env);
    return await run(command, invocation, target, deps, out);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n\n`);
      err(helpText(error.command ?? invocation?.command ?? null));
      return error.exitCode;
    }
    if (error instanceof RefusedError || error instanceof AwsCallError) {
      err(`error: ${error.message}`);
      return error.exitCode;
    }
    // An SDK failure outside `aws(…)` (e.g. no credentials) is still an AWS error, not a crash.
    err(`error: ${describeAwsError(error)}`);
    return 1;
  }
}

async function run(
  command: CommandName,
  invocation: Invocation,
  target: Target,
  deps: OpsDeps,
  out: (text: string) => void,
): Promise<number> {
  const { args, options } = invocation;
  const names = await loadStackNames(target, deps);
  const txs = () => deps.txReader(names.transactionsTable);

  switch (command) {
    case 'stuck': {
      const olderThanMs = (options['older-than'] as number | undefined) ?? 60_000;
      const limit = (options.limit as number | undefined) ?? 50;
      const nowMs = deps.clock.nowMs();
      const report = await aws('read the transaction log', () => findStuck(txs(), nowMs, olderThanMs));
      const shown = report.stuck.slice(0, limit);
      if (options.json) {
        out(JSON.stringify({ ...report, stuck: shown, total: report.stuck.length }, null, 2));
        return 0;
      }
      if (report.stuck.length === 0) {
        out(
          `No stuck transactions: ${report.scanned} unfinished, none overdue or older than ${formatDurationMs(olderThanMs)}.`,
        );
      } else {
        out(formatStuckTable(shown, nowMs));
        out(
          `\n${report.stuck.length} stuck of ${report.scanned} unfinished (threshold ${formatDurationMs(olderThanMs)})` +
            (shown.length < report.stuck.length ? `; showing the ${shown.length} oldest (--limit)` : '') +
            '.',
        );
      }
      if (report.truncated) out(`Note: only the first ${report.scanned} unfinished transactions were read.`);
      return 0;
    }
    case 'show': {
      const txId = args.txId!;
      const record = await loadOrRefuse(txs(), txId);
      out(
        options.json
          ? JSON.stringify(toOperatorView(record), null, 2)
          : formatTransaction(record, deps.clock.nowMs()),
      );
      return 0;
    }
    case 'retry': {
      const txId = args.txId!;
      out(await retryTransaction(txs(), deps.queues, names.coordinatorQueueUrl, txId, deps.clock.nowMs()));
      return 0;
    }
    case 'abort': {
      const result = await abortTransaction(
        txs(),
        deps.queues,
        names.coordinatorQueueUrl,
        {
          txId: args.txId!,
          ...(typeof options.note === 'string' ? { note: options.note } : {}),
          ...(typeof options.wait === 'number' ? { waitMs: options.wait } : {}),
        },
        deps.clock,
      );
      for (const line of result.lines) out(line);
      return result.exitCode;
    }
    case 'dlq list':
    case 'dlq show':
    case 'dlq redrive': {
      const dlqs = await stackDlqs(names, deps.stack, deps.queues);
      if (command === 'dlq list') {
        const counts = await countDlqs(dlqs, deps.queues);
        out(options.json ? JSON.stringify(counts, null, 2) : formatDlqCounts(counts));
        return 0;
      }
      const dlq = pickDlq(dlqs, args.queue!, command);
      if (command === 'dlq show') {
        const messages = await peekDlq(dlq, deps.queues, (options.max as number | undefined) ?? 10);
        out(options.json ? JSON.stringify(messages, null, 2) : formatPeeked(dlq, messages));
        return 0;
      }
      if (options.all && options.max !== undefined) {
        throw new UsageError('--all and --max exclude each other', command);
      }
      const result = await redriveDlq(dlq, deps.queues, deps.clock, {
        all: options.all === true,
        max: (options.max as number | undefined) ?? 10,
        waitMs: (options.wait as number | undefined) ?? 60_000,
      });
      out(formatRedrive(dlq, result));
      return result.failed > 0 ? 1 : 0;
    }
    case 'events republish': {
      const since = options.since as number | undefined;
      if (!names.eventBusName) {
        throw new RefusedError(`stack ${target.stackName} announces no events (deployed with -c events=off)`);
      }
      const publisher = deps.publisher(names.eventBusName);
      let result: Parameters<typeof formatRepublish>[0];
      if (since !== undefined) {
        const nowMs = deps.clock.nowMs();
        result = await republishRanges(txs(), publisher, [{ fromMs: nowMs - since, toMs: nowMs }]);
      } else {
        if (!names.eventsDlqUrl)
          throw new RefusedError(`stack ${target.stackName} has no output EventsDlqUrl`);
        result = await republishFromDlq(txs(), publisher, deps.queues, names.eventsDlqUrl);
      }
      for (const line of formatRepublish(result)) out(line);
      return result.failed.length > 0 ? 1 : 0;
    }
  }
}

export async function loadStackNames(target: Target, deps: OpsDeps): Promise<StackNames> {
  const outputs = await aws(`read the outputs of stack ${target.stackName}`, () =>
    deps.stack.outputs(target.stackName),
  );
  return stackNamesOf(target.stackName, outputs);
}
