import { describe, expect, it } from 'vitest';
import { COMMANDS, helpText, parseArgs } from '../../../shared/ops/args';
import { UsageError } from '../../../shared/ops/errors';

function usageError(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('parses each command with its arguments and converted options', () => {
    // Act // Assess
    expect(parseArgs(['stuck', '--older-than', '90s', '--limit=5'])).toEqual({
      command: 'stuck',
      help: false,
      args: {},
      options: { 'older-than': 90_000, limit: 5 },
    });
    expect(parseArgs(['show', 'tx_1', '--json'])).toMatchObject({
      command: 'show',
      args: { txId: 'tx_1' },
      options: { json: true },
    });
    expect(parseArgs(['abort', 'tx_1', '--note', 'customer asked', '--wait', '10s'])).toMatchObject({
      command: 'abort',
      args: { txId: 'tx_1' },
      options: { note: 'customer asked', wait: 10_000 },
    });
    expect(parseArgs(['dlq', 'list'])).toMatchObject({ command: 'dlq list', args: {} });
    expect(parseArgs(['dlq', 'show', 'ledger-0', '--max', '3'])).toMatchObject({
      command: 'dlq show',
      args: { queue: 'ledger-0' },
      options: { max: 3 },
    });
    expect(parseArgs(['dlq', 'redrive', 'coordinator', '--all'])).toMatchObject({
      command: 'dlq redrive',
      args: { queue: 'coordinator' },
      options: { all: true },
    });
  });

  it('takes the global options before or after the command', () => {
    expect(parseArgs(['--stack', 'Tandem-dev', 'retry', 'tx_1', '--endpoint=http://localhost:4566'])).toEqual(
      {
        command: 'retry',
        help: false,
        args: { txId: 'tx_1' },
        options: { stack: 'Tandem-dev', endpoint: 'http://localhost:4566' },
      },
    );
  });

  it('treats everything after -- as arguments (a txId that starts with dashes)', () => {
    expect(parseArgs(['show', '--', '--odd'])).toMatchObject({ args: { txId: '--odd' } });
  });

  it('answers --help, -h and help for the overview and for each command', () => {
    expect(parseArgs(['--help'])).toEqual({ command: null, help: true, args: {}, options: {} });
    expect(parseArgs(['help'])).toMatchObject({ command: null, help: true });
    expect(parseArgs(['dlq', '--help'])).toMatchObject({ command: null, help: true });
    expect(parseArgs(['abort', '-h'])).toMatchObject({ command: 'abort', help: true });
    expect(parseArgs(['help', 'dlq', 'redrive'])).toMatchObject({ command: 'dlq redrive', help: true });
    // --help wins over missing arguments: `show --help` needs no txId.
    expect(parseArgs(['show', '--help'])).toMatchObject({ command: 'show', help: true });
  });

  it.each([
    [[], 'no command given', undefined],
    [['frobnicate'], "unknown command 'frobnicate'", undefined],
    [['dlq'], 'dlq needs a subcommand', undefined],
    [['dlq', 'purge'], "unknown command 'dlq purge'", undefined],
    [['show'], 'missing <txId>', 'show'],
    [['show', 'a', 'b'], "unexpected argument 'b'", 'show'],
    [['show', ''], '<txId> must not be empty', 'show'],
    [['stuck', '--older-than', 'soon'], '--older-than must be a duration', 'stuck'],
    [['stuck', '--older-than', '-5s'], '--older-than must be a duration', 'stuck'],
    [['stuck', '--limit', '0'], '--limit must be a positive integer', 'stuck'],
    [['stuck', '--limit', '2.5'], '--limit must be a positive integer', 'stuck'],
    [['stuck', '--limit'], '--limit needs a value', 'stuck'],
    [['stuck', '--bogus'], 'unknown option --bogus', 'stuck'],
    [['stuck', '-x'], 'unknown option -x', undefined],
    [['show', 'tx', '--note', 'x'], 'show has no option --note', 'show'],
    [['show', 'tx', '--json=yes'], '--json takes no value', 'show'],
    [['show', 'tx', '--json', '--json'], '--json given twice', 'show'],
    [['abort', 'tx', '--note', '  '], '--note must not be empty', 'abort'],
    [['help', 'nope'], "no command 'nope'", undefined],
  ])('refuses %j: %s', (argv, message, command) => {
    const error = usageError(argv);
    expect(error.message).toContain(message);
    expect(error.command).toBe(command);
    expect(error.exitCode).toBe(2);
  });
});

describe('helpText', () => {
  it('lists every command in the overview', () => {
    const text = helpText(null);
    for (const command of COMMANDS) expect(text).toContain(command.name);
    expect(text).toContain('npm run ops -- <command>');
    expect(text).toMatch(/Exit status: 0 done, 1 refused or AWS failed, 2 bad arguments/);
  });

  it('shows a usage line with the arguments and options of each command', () => {
    expect(helpText('dlq redrive')).toContain(
      'Usage: npm run ops -- dlq redrive <queue> [--all] [--max N] [--wait duration]',
    );
    expect(helpText('abort')).toContain('A recorded decision can never be changed');
    expect(helpText('stuck')).toContain('--older-than <duration>');
  });
});
