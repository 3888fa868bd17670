import {
  type CancellationReason,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { contentionOf } from '../../../shared/adapters/dynamo-errors';
import { DynamoOnePhaseCommitter } from '../../../shared/adapters/dynamo-one-phase';
import { DynamoParticipantStore } from '../../../shared/adapters/dynamo-participant-store';
import { DynamoSlotStore } from '../../../shared/adapters/dynamo-slots';
import { DynamoTxStore, txItemOf } from '../../../shared/adapters/dynamo-tx-store';
import { Backoff, CONTENTION_BACKOFF, type Pacing } from '../../../shared/backoff';
import { LEDGER } from '../../../shared/bank-and-shop';
import { handleCoordinatorInput } from '../../../shared/coordinator/shell';
import { ContentionError, FenceLostError, InfrastructureError } from '../../../shared/errors';
import { NO_FAULTS } from '../../../shared/faults';
import { LEDGER_COUNTER } from '../../../shared/ledger/participant';
import { handleParticipantMessage } from '../../../shared/participant';
import { onePhaseRecord, type TxRecord } from '../../../shared/protocol';
import { config, preparing, TX } from '../protocol/helpers';

// Contention (DynamoDB's TransactionConflict and throttles) as the adapters classify it and the
// shells wait it out — over a scripted client (no network): the emulator serialises DynamoDB and
// never produces a conflict. The deployed stack injects the same errors by fault plan.

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })) as CancellationReason[],
  });
const conflict = () => cancelled('TransactionConflict', 'None');

/** A client whose TransactWriteItems answer from `writes` in turn (an error, or success). */
function scripted(items: Record<string, Record<string, unknown>>, writes: Array<Error | undefined>) {
  const sent: string[] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetCommand) {
        sent.push('Get');
        const key = Object.values(command.input.Key ?? {})[0] as string;
        return { Item: items[key] };
      }
      if (command instanceof TransactWriteCommand || command instanceof PutCommand) {
        sent.push(command instanceof PutCommand ? 'Put' : 'TransactWrite');
        const error = writes.shift();
        if (error) throw error;
        return {};
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

/** Pacing that sleeps no real time and records what it was asked to wait. */
function fakePacing(deadlineMs = Number.POSITIVE_INFINITY) {
  const slept: number[] = [];
  const pacing: Pacing = {
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    deadlineMs: () => deadlineMs,
  };
  return { pacing, slept };
}

const clock = { nowMs: () => preparing(1).createdAtMs + 1 };
const fence = { slot: 7, owner: 'env-a', epoch: 3 };
const leases = { fence: async () => fence, forget: () => {} };
const transport = { toParticipant: async () => {}, scheduleCheck: async () => {} };
const yes = { type: 'Vote', txId: TX, participantId: 'ledger-0', vote: 'YES' } as const;

/** The coordinator handles a YES vote over a DynamoTxStore on `client`. */
const coordinate = (client: DynamoDBDocumentClient, pacing: Pacing) =>
  handleCoordinatorInput(yes, {
    txs: new DynamoTxStore(client, 'txs', 'slots'),
    leases,
    clock,
    transport,
    config,
    faults: NO_FAULTS,
    pacing,
  });

describe('contention: how a refused write is classified', () => {
  it.each([
    ['TransactionConflict', cancelled('None', 'TransactionConflict'), 'conflict'],
    ['ThrottlingError', cancelled('ThrottlingError', 'None'), 'throttle'],
    ['ProvisionedThroughputExceeded', cancelled('None', 'ProvisionedThroughputExceeded'), 'throttle'],
    [
      'a single-item write meeting a transaction',
      new TransactionConflictException({ message: 'x', $metadata: {} }),
      'conflict',
    ],
    [
      'a throttle past the SDK retries',
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
      'throttle',
    ],
  ])('%s is contention (%s)', (_name, error, reason) => {
    expect(contentionOf(error)).toBe(reason);
  });

  it.each([
    ['a failed condition next to a conflict', cancelled('ConditionalCheckFailed', 'TransactionConflict')],
    ['a validation error', cancelled('ValidationError')],
    ['a network failure', new Error('socket hang up')],
  ])('%s is not', (_name, error) => {
    expect(contentionOf(error)).toBeNull();
  });

  it('the coordinator save: a conflict is ContentionError; the fence, then the version, still win', async () => {
    const record = preparing(1);
    const next = { record: { ...record, version: record.version + 1 }, requestHash: 'h' };
    const save = (error: Error) =>
      new DynamoTxStore(scripted({}, [error]).client, 'txs', 'slots').save(next, record.version, fence);

    await expect(save(cancelled('None', 'TransactionConflict'))).rejects.toBeInstanceOf(ContentionError);
    await expect(save(cancelled('TransactionConflict', 'ConditionalCheckFailed'))).rejects.toBeInstanceOf(
      FenceLostError,
    );
    await expect(save(cancelled('ThrottlingError', 'None'))).rejects.toMatchObject({ reason: 'throttle' });
  });

  it('the create and the slot lease: a single-item write meeting a transaction is ContentionError', async () => {
    const meets = () => new TransactionConflictException({ message: 'ongoing transaction', $metadata: {} });
    const record = preparing(1);
    const create = new DynamoTxStore(scripted({}, [meets()]).client, 'txs', 'slots').create({
      record,
      requestHash: 'h',
    });
    const lease = new DynamoSlotStore(scripted({}, [meets()]).client, 'slots').write(
      { slot: 7, owner: 'env-b', epoch: 4, leaseExpiresAtMs: 1 },
      { rowExists: false },
    );

    await expect(create).rejects.toBeInstanceOf(ContentionError);
    await expect(lease).rejects.toBeInstanceOf(ContentionError);
  });

  it('the one-phase commit: a conflict is ContentionError, not a fall-back to two phases', async () => {
    const tx = { txId: TX, slot: 0, participants: [{ id: 'ledger-0', kind: 'ledger', operations: [] }] };
    const record = onePhaseRecord(
      {
        ...tx,
        participants: [
          { ...tx.participants[0]!, operations: [{ action: 'debit', accountId: 'a', amount: 1 }] },
        ],
      },
      1,
      config,
      { decision: 'COMMIT' },
    );
    const committer = new DynamoOnePhaseCommitter(scripted({}, [conflict()]).client, 'txs', {
      'ledger-0': { table: 'ledger-0', kind: 'ledger', counter: LEDGER_COUNTER },
    });

    await expect(committer.commit({ record, requestHash: 'h' })).rejects.toBeInstanceOf(ContentionError);
  });
});

describe('contention: the shells wait it out instead of failing the message', () => {
  it('the coordinator retries a conflicting save from a fresh read and decides (regression: the slot stalled)', async () => {
    // Before: DynamoTxStore turned the conflict into an InfrastructureError, the Vote failed, and
    // the slot's FIFO group stayed blocked for a visibility timeout.
    const record = preparing(1);
    const { client, sent } = scripted({ [TX]: txItemOf({ record, requestHash: 'h' }) }, [
      conflict(),
      undefined,
    ]);
    const { pacing, slept } = fakePacing();

    const outcome = await coordinate(client, pacing);

    expect(outcome.kind).toBe('changed');
    expect((outcome as { record: TxRecord }).record.state).toBe('COMMITTING');
    expect(sent).toEqual(['Get', 'TransactWrite', 'Get', 'TransactWrite']);
    expect(slept).toEqual([10]); // full jitter: 0.5 × the first ceiling (20 ms)
  });

  it('the coordinator gives up as an InfrastructureError once the backoff is spent', async () => {
    const record = preparing(1);
    const writes = Array.from({ length: CONTENTION_BACKOFF.retriesMax + 1 }, conflict);
    const { client } = scripted({ [TX]: txItemOf({ record, requestHash: 'h' }) }, writes);
    const { pacing, slept } = fakePacing();

    const handled = coordinate(client, pacing);

    await expect(handled).rejects.toBeInstanceOf(InfrastructureError);
    expect(slept).toHaveLength(CONTENTION_BACKOFF.retriesMax);
  });

  it('a participant outlasts more conflicts in a row than it has races to lose (regression: a hot account gave up after 5)', async () => {
    // Before: a conflict counted as a lost barrier race, retried back to back, and the sixth one
    // gave up (InfrastructureError: the Prepare waited a visibility timeout, often past the deadline).
    const writes = [...Array.from({ length: 6 }, conflict), undefined];
    const { client, sent } = scripted({}, writes);
    const { pacing, slept } = fakePacing();
    const replies: unknown[] = [];

    const outcome = await handleParticipantMessage(
      {
        type: 'Prepare',
        txId: TX,
        participantId: 'ledger-0',
        operations: [{ action: 'debit', accountId: 'alice', amount: 5 }],
      },
      {
        store: new DynamoParticipantStore(client, { table: 'ledger-0', definition: LEDGER.definition }),
        kind: LEDGER,
        clock,
        replies: { send: async (reply) => void replies.push(reply) },
        faults: NO_FAULTS,
        pacing,
      },
    );

    expect(outcome.reply).toMatchObject({ type: 'Vote', vote: 'YES' });
    expect(replies).toHaveLength(1);
    expect(sent.filter((c) => c === 'TransactWrite')).toHaveLength(7);
    expect(slept).toEqual([10, 20, 40, 80, 160, 320]);
  });
});

describe('the backoff', () => {
  it('waits a full-jitter share of a doubling, capped ceiling', async () => {
    const { pacing, slept } = fakePacing();
    const backoff = new Backoff({ ...pacing, random: () => 0.999 }, { nowMs: () => 0 });
    while (await backoff.wait()) {
      // spend every retry
    }
    expect(slept).toEqual([19, 39, 79, 159, 319, 639, 999, 999, 999, 999]);
  });

  it('does not start a wait that would end past the deadline', async () => {
    const { pacing, slept } = fakePacing(100);
    let now = 0;
    const backoff = new Backoff(
      {
        ...pacing,
        sleep: async (ms) => {
          now += ms;
          slept.push(ms);
        },
      },
      { nowMs: () => now },
    );
    while (await backoff.wait()) {
      // until the deadline stops it
    }
    expect(slept).toEqual([10, 20, 40]); // the next (80 ms) would end at 150 ms
  });
});
