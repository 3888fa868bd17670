import { describe, expect, it } from 'vitest';
import { main } from '../../../shared/ops/cli';
import type { OpsDeps } from '../../../shared/ops/ports';
import type { Target } from '../../../shared/ops/target';
import { resolveTarget } from '../../../shared/ops/target';
import type { TxRecord } from '../../../shared/protocol';
import { COORDINATOR_URL, LEDGER0_DLQ_URL, STACK, T0, tx, vote, type World, world } from './fakes';

/** Runs the CLI over fakes; returns its exit code and what it wrote. */
async function cli(
  argv: string[],
  w: World = world(),
  env: NodeJS.ProcessEnv = { AWS_ENDPOINT_URL: 'http://x' },
) {
  let stdout = '';
  let stderr = '';
  const targets: Target[] = [];
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    connect: (target): OpsDeps => {
      targets.push(target);
      return w.deps;
    },
  });
  return { code, stdout, stderr, targets };
}

const withStack = (...argv: string[]) => [...argv, '--stack', STACK];

describe('exit codes and messages', () => {
  it('prints help on stdout with exit 0', async () => {
    const { code, stdout, stderr } = await cli(['--help']);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toContain('Commands:');
    expect((await cli(['dlq', 'show', '--help'])).stdout).toContain('Usage: npm run ops -- dlq show <queue>');
  });

  it('answers bad arguments with the message and the usage on stderr, exit 2, before any AWS call', async () => {
    const { code, stdout, stderr, targets } = await cli(['abort']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: missing <txId>\n\n.*\n\nUsage: npm run ops -- abort <txId>/s);
    expect(targets).toEqual([]);
    expect((await cli(['stuck', '--older-than', 'a while'])).code).toBe(2);
    expect((await cli(['abort', 'tx', '--note', 'x'.repeat(501)])).stderr).toContain(
      '--note is limited to 500',
    );
  });

  it('requires --stack against AWS and defaults to Tandem-local against an emulator', async () => {
    const aws = await cli(['stuck'], world(), {});
    expect(aws.code).toBe(2);
    expect(aws.stderr).toContain('--stack is required against AWS');

    expect(resolveTarget({}, { AWS_ENDPOINT_URL: 'http://localhost:4566/' })).toEqual({
      stackName: 'Tandem-local',
      endpoint: 'http://localhost:4566',
    });
    expect(resolveTarget({ endpoint: 'http://b:1' }, { TANDEM_ENDPOINT: 'http://a:1' }).endpoint).toBe(
      'http://b:1',
    );
    expect(
      resolveTarget({}, { TANDEM_ENDPOINT: 'http://a:1', AWS_ENDPOINT_URL: 'http://c:1' }).endpoint,
    ).toBe('http://a:1');
    expect(resolveTarget({ stack: 'Tandem-prod' }, {})).toEqual({
      stackName: 'Tandem-prod',
      endpoint: undefined,
    });
    expect(() => resolveTarget({ endpoint: 'localhost:4566' }, {})).toThrow(/must be an http\(s\) URL/);
  });

  it('says which stack does not exist, exit 1', async () => {
    const { code, stderr } = await cli(['stuck', '--stack', 'Tandem-nope']);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'error: could not read the outputs of stack Tandem-nope: ValidationError: Stack with id Tandem-nope does not exist\n',
    );
  });

  it('turns an AWS failure into a readable message, exit 1', async () => {
    const w = world();
    w.txs.load = async () => {
      throw Object.assign(new Error('User is not authorized to perform: dynamodb:GetItem'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      });
    };
    const { code, stderr } = await cli(withStack('show', 'tx-1'), w);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'error: could not read transaction tx-1: AccessDeniedException: User is not authorized to perform: dynamodb:GetItem (HTTP 400)\n',
    );
  });
});

describe('commands over fakes', () => {
  const now = T0 + 120_000;
  const stuckOne = tx('tx-stuck', T0, [vote('ledger-0', 'YES', T0 + 10)]);
  const committed: TxRecord = tx('tx-ok', T0, [vote('ledger-0', 'YES', T0), vote('ledger-1', 'YES', T0)]);

  function stocked() {
    const w = world([stuckOne, committed]);
    w.clock.now = now;
    return w;
  }

  it('stuck prints the table', async () => {
    const { code, stdout } = await cli(withStack('stuck', '--older-than', '30s'), stocked());
    expect(code).toBe(0);
    expect(stdout).toMatch(/\ntx-stuck +PREPARING +2m 00s +overdue 1m 55s +votes: ledger-1\n/);
    expect(stdout).toMatch(/\ntx-ok +COMMITTING +2m 00s +overdue 1m 55s +acks: ledger-0, ledger-1\n/);
    expect(stdout).toContain('2 stuck of 2 unfinished (threshold 30s).');
  });

  it('stuck --limit shows the oldest, --json gives the data', async () => {
    const limited = await cli(withStack('stuck', '--limit', '1', '--older-than', '1s'), stocked());
    expect(limited.stdout).toContain('showing the 1 oldest (--limit)');
    const json = JSON.parse((await cli(withStack('stuck', '--json'), stocked())).stdout);
    expect(json).toMatchObject({
      total: 2,
      scanned: 2,
      truncated: false,
      stuck: [{ txId: 'tx-ok' }, { txId: 'tx-stuck' }],
    });
  });

  it('stuck needs no slot count: it reads every slot a live record holds', async () => {
    const w = stocked();
    delete w.stack.outputsByStack[STACK]!.SlotCount;
    expect((await cli(withStack('stuck'), w)).code).toBe(0);
    expect((await cli(withStack('stuck', '--slots', '4'), w)).stderr).toMatch(/--slots/);
  });

  it('show prints the timeline, --json the view; unknown is exit 1', async () => {
    expect((await cli(withStack('show', 'tx-stuck'), stocked())).stdout).toContain('vote YES from ledger-0');
    expect(JSON.parse((await cli(withStack('show', 'tx-stuck', '--json'), stocked())).stdout)).toMatchObject({
      txId: 'tx-stuck',
      state: 'PREPARING',
    });
    const unknown = await cli(withStack('show', 'tx-nope'), stocked());
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'error: no transaction tx-nope in the transaction log\n',
    ]);
  });

  it('abort refuses a decided transaction: exit 1, the decision stands, nothing sent', async () => {
    const w = stocked();
    const { code, stdout, stderr } = await cli(withStack('abort', 'tx-ok'), w);
    expect([code, stdout]).toEqual([1, '']);
    expect(stderr).toContain('is COMMITTING: the decision COMMIT is recorded and stands');
    expect(w.queues.messages(COORDINATOR_URL)).toEqual([]);
  });

  it('abort and retry of an undecided transaction go to its slot group', async () => {
    const w = stocked();
    expect((await cli(withStack('abort', 'tx-stuck', '--note', 'e2e'), w)).code).toBe(0);
    expect((await cli(withStack('retry', 'tx-stuck'), w)).code).toBe(0);
    expect(w.queues.messages(COORDINATOR_URL).map((m) => [m.groupId, JSON.parse(m.body)])).toEqual([
      [`slot-${stuckOne.slot}`, { type: 'OperatorAbort', txId: 'tx-stuck', note: 'e2e' }],
      [`slot-${stuckOne.slot}`, { type: 'Check', txId: 'tx-stuck' }],
    ]);
  });

  it('dlq list, show and redrive', async () => {
    const w = stocked();
    w.queues.put(LEDGER0_DLQ_URL, '{"type":"Prepare"', {
      attributes: {
        error: { DataType: 'String', StringValue: 'MalformedParticipantMessageError: not JSON' },
      },
    });

    const list = await cli(withStack('dlq', 'list'), w);
    expect(list.stdout).toMatch(/^QUEUE {8}MESSAGES {2}IN FLIGHT {2}DEAD-LETTER QUEUE\ncoordinator +0 +0 /);
    expect(list.stdout).toMatch(/\nledger-0 +1 +0 +Tandem-test-Ledger0InboxDlq0AA91DF3-6\n/);

    const show = await cli(withStack('dlq', 'show', 'ledger-0'), w);
    expect(show.stdout).toContain('error      MalformedParticipantMessageError: not JSON');
    expect(show.stdout).toContain('body       {"type":"Prepare"');

    const redrive = await cli(withStack('dlq', 'redrive', 'ledger-0', '--all'), w);
    expect(redrive.stdout).toContain(
      'Moved 1 message(s) from Tandem-test-Ledger0InboxDlq0AA91DF3-6 back to ledger-0',
    );
    expect((await cli(withStack('dlq', 'redrive', 'ledger-0', '--all', '--max', '2'), w)).code).toBe(2);
    expect((await cli(withStack('dlq', 'show', 'nope'), w)).code).toBe(2);
  });
});
