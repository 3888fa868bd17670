import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { txItemOf } from '../../../shared/adapters/dynamo-tx-store';
import { EventBridgePublisher } from '../../../shared/adapters/eventbridge-publisher';
import { publishOutcomes, terminalChangeOf } from '../../../shared/adapters/outcome-stream';
import {
  type EventPublisher,
  type PublishFailure,
  type TransactionEvent,
  transactionEvent,
} from '../../../shared/events';
import type { TxOrigin } from '../../../shared/ports';
import { newTransaction, onePhaseRecord, type TxRecord } from '../../../shared/protocol';

const config = { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 };
const participants = [
  { id: 'ledger-0', kind: 'ledger', operations: [{ action: 'debit', accountId: 'a', amount: 5 }] },
  { id: 'ledger-1', kind: 'ledger', operations: [{ action: 'credit', accountId: 'b', amount: 5 }] },
];

const live = (txId: string): TxRecord => newTransaction({ txId, slot: 3, participants }, 1_000, config);
const terminal = (txId: string, state: 'COMMITTED' | 'ABORTED'): TxRecord => ({
  ...live(txId),
  state,
  reason: state === 'ABORTED' ? 'participant ledger-0 voted NO: insufficient funds' : null,
  decidedAtMs: 1_050,
  completedAtMs: 1_090,
  nextCheckAtMs: null,
  version: 5,
});

type Image = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;
const image = (record: TxRecord, origin?: TxOrigin) =>
  marshall(txItemOf({ record, requestHash: 'h', ...(origin ? { origin } : {}) }), {
    removeUndefinedValues: true,
  }) as Image;

let sequence = 0;
/** A stream record as Lambda hands it over (NEW_AND_OLD_IMAGES). */
function change(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  before: TxRecord | undefined,
  after: TxRecord | undefined,
): DynamoDBRecord {
  sequence++;
  return {
    eventID: `e${sequence}`,
    eventName,
    dynamodb: {
      SequenceNumber: String(sequence).padStart(21, '0'),
      ...(before ? { OldImage: image(before) } : {}),
      ...(after ? { NewImage: image(after) } : {}),
    },
  };
}

/** A bus that records what it was given and refuses the event ids in `refuse`. */
class Bus implements EventPublisher {
  readonly calls: TransactionEvent[][] = [];
  constructor(private readonly refuse: readonly string[] = []) {}
  async publish(events: readonly TransactionEvent[]): Promise<readonly PublishFailure[]> {
    this.calls.push([...events]);
    return events
      .filter((e) => this.refuse.includes(e.eventId))
      .map((e) => ({ eventId: e.eventId, reason: 'no' }));
  }
}

describe('events out from the transactions stream', () => {
  it('announces a record born terminal (one-phase) and a change into a terminal state', () => {
    const onePhase = onePhaseRecord({ txId: 'tx-1', slot: 3, participants }, 2_000, config, {
      decision: 'COMMIT',
    });
    expect(terminalChangeOf(change('INSERT', undefined, onePhase))).toEqual({
      eventId: 'tx-1/COMMITTED',
      txId: 'tx-1',
      outcome: 'COMMITTED',
      reason: null,
      participants: [
        { id: 'ledger-0', kind: 'ledger' },
        { id: 'ledger-1', kind: 'ledger' },
      ],
      createdAtMs: 2_000,
      decidedAtMs: 2_000,
      completedAtMs: 2_000,
    });
    const aborting = { ...live('tx-2'), state: 'ABORTING' as const };
    expect(terminalChangeOf(change('MODIFY', aborting, terminal('tx-2', 'ABORTED')))).toMatchObject({
      eventId: 'tx-2/ABORTED',
      outcome: 'ABORTED',
      reason: 'participant ledger-0 voted NO: insufficient funds',
      completedAtMs: 1_090,
    });
  });

  it('announces nothing for a live record, a terminal record rewritten, or its expiry', () => {
    const done = terminal('tx-3', 'COMMITTED');
    expect(terminalChangeOf(change('INSERT', undefined, live('tx-3')))).toBeUndefined();
    expect(
      terminalChangeOf(change('MODIFY', live('tx-3'), { ...live('tx-3'), state: 'COMMITTING' })),
    ).toBeUndefined();
    expect(terminalChangeOf(change('MODIFY', done, { ...done, version: 6 }))).toBeUndefined();
    expect(terminalChangeOf(change('REMOVE', done, undefined))).toBeUndefined();
  });

  it('puts a batch in one call', async () => {
    const bus = new Bus();
    const records = [
      change('INSERT', undefined, live('tx-4')),
      change('MODIFY', { ...live('tx-4'), state: 'COMMITTING' }, terminal('tx-4', 'COMMITTED')),
      change('MODIFY', { ...live('tx-5'), state: 'ABORTING' }, terminal('tx-5', 'ABORTED')),
    ];
    const published: number[] = [];
    await publishOutcomes(records, bus, { onPublished: (n) => published.push(n) });

    expect(bus.calls.map((call) => call.map((e) => e.eventId))).toEqual([['tx-4/COMMITTED', 'tx-5/ABORTED']]);
    expect(published).toEqual([2]);
  });

  it('puts every event it can, then fails the batch for the ones refused, so Lambda retries it', async () => {
    const records = ['tx-6', 'tx-7', 'tx-8'].map((txId) =>
      change('MODIFY', { ...live(txId), state: 'COMMITTING' }, terminal(txId, 'COMMITTED')),
    );
    const failures: unknown[] = [];
    const published: number[] = [];
    await expect(
      publishOutcomes(records, new Bus(['tx-7/COMMITTED', 'tx-8/COMMITTED']), {
        onFailure: (f) => failures.push(f),
        onPublished: (n) => published.push(n),
      }),
    ).rejects.toThrow(
      /2 of 3 stream records not announced \(first: tx-7\/COMMITTED: no\); the batch is retried/,
    );
    expect(failures).toEqual([
      { sequenceNumber: records[1]?.dynamodb?.SequenceNumber, eventId: 'tx-7/COMMITTED', reason: 'no' },
      { sequenceNumber: records[2]?.dynamodb?.SequenceNumber, eventId: 'tx-8/COMMITTED', reason: 'no' },
    ]);
    expect(published).toEqual([1]);
  });

  it('fails the batch for a terminal image that is not a transaction, after putting the rest', async () => {
    const bad = change('INSERT', undefined, terminal('tx-9', 'COMMITTED'));
    delete bad.dynamodb?.NewImage?.participants;
    const good = change('INSERT', undefined, terminal('tx-10', 'ABORTED'));
    const bus = new Bus();
    const failures: Array<{ sequenceNumber: string; reason: string }> = [];
    await expect(publishOutcomes([bad, good], bus, { onFailure: (f) => failures.push(f) })).rejects.toThrow(
      /1 of 2 stream records not announced/,
    );
    expect(failures[0]?.sequenceNumber).toBe(bad.dynamodb?.SequenceNumber);
    expect(failures[0]?.reason).toMatch(/is not a transaction.*participants/s);
    expect(bus.calls.flat().map((e) => e.eventId)).toEqual(['tx-10/ABORTED']);
  });

  it('calls the bus not at all for a batch with nothing to announce', async () => {
    const bus = new Bus();
    await publishOutcomes([change('INSERT', undefined, live('tx-11'))], bus);
    expect(bus.calls).toEqual([]);
  });
});

describe('the EventBridge publisher', () => {
  const events = (n: number): TransactionEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      eventId: `tx-${i}/COMMITTED`,
      txId: `tx-${i}`,
      outcome: 'COMMITTED',
      reason: null,
      participants: [{ id: 'ledger-0', kind: 'ledger' }],
      createdAtMs: 1,
      decidedAtMs: 2,
      completedAtMs: 3,
    }));

  /** A client whose `send` answers each PutEvents with `answer(entries, call)`. */
  function client(answer: (entries: readonly { Detail?: string }[], call: number) => unknown) {
    const calls: PutEventsCommand[] = [];
    const fake = {
      send: async (command: PutEventsCommand) => {
        calls.push(command);
        return answer(command.input.Entries ?? [], calls.length);
      },
    } as unknown as EventBridgeClient;
    return { fake, calls };
  }

  it('puts up to 10 entries a request, on the bus, with the detail type of the outcome', async () => {
    const { fake, calls } = client((entries) => ({
      FailedEntryCount: 0,
      Entries: entries.map(() => ({ EventId: 'x' })),
    }));
    const failures = await new EventBridgePublisher(fake, 'bus').publish(events(23));

    expect(failures).toEqual([]);
    expect(calls.map((c) => c.input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.input.Entries?.[0]).toEqual({
      EventBusName: 'bus',
      Source: 'tandem',
      DetailType: 'TransactionCommitted',
      Detail: JSON.stringify(events(1)[0]),
      Resources: [],
    });
  });

  it('returns the entries EventBridge refused, and every entry of a request that failed', async () => {
    const { fake } = client((entries, call) => {
      if (call === 2) throw new Error('throttled');
      return {
        FailedEntryCount: 1,
        Entries: entries.map((_, i) =>
          i === 1 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' } : {},
        ),
      };
    });
    const failures = await new EventBridgePublisher(fake, 'bus').publish(events(12));

    expect(failures).toEqual([
      { eventId: 'tx-1/COMMITTED', reason: 'EventBridge refused it (InternalFailure: try again)' },
      { eventId: 'tx-10/COMMITTED', reason: 'PutEvents failed: throttled' },
      { eventId: 'tx-11/COMMITTED', reason: 'PutEvents failed: throttled' },
    ]);
  });

  it('sends nothing for no events', async () => {
    const { fake, calls } = client(() => ({}));
    expect(await new EventBridgePublisher(fake, 'bus').publish([])).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('puts a console action as its own event: source tandem.console, detail type ConsoleAction', async () => {
    const { fake, calls } = client(() => ({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] }));
    const action = {
      detailType: 'ConsoleAction' as const,
      eventId: 'a-1',
      who: 'local',
      what: 'POST /api/transactions/t-1/abort',
      atMs: 5,
      status: 202,
      answer: { done: true },
    };
    expect(await new EventBridgePublisher(fake, 'bus').publish([action])).toEqual([]);
    const { detailType: _, ...detail } = action;
    expect(calls[0]?.input.Entries).toEqual([
      {
        EventBusName: 'bus',
        Source: 'tandem.console',
        DetailType: 'ConsoleAction',
        Detail: JSON.stringify(detail),
        Resources: [],
      },
    ]);
  });
});

describe('the origin of a request, on its outcome', () => {
  const origin = { source: 'events:transfers', key: 'order-7', eventId: '5b1c-uuid' };

  it('is stored with the record only when there is one', () => {
    expect(txItemOf({ record: live('tx_a'), requestHash: 'h' })).not.toHaveProperty('origin');
    expect(txItemOf({ record: live('tx_a'), requestHash: 'h', origin })).toMatchObject({ origin });
  });

  it('is repeated on the event, so a subscriber can match outcome to request', () => {
    // Act
    const event = terminalChangeOf({
      eventID: 'e',
      eventName: 'MODIFY',
      dynamodb: {
        OldImage: image(live('tx_a'), origin),
        NewImage: image(terminal('tx_a', 'COMMITTED'), origin),
      },
    });

    // Assess
    expect(event).toMatchObject({ txId: 'tx_a', outcome: 'COMMITTED', origin });
  });

  it('is left out of the event of a request without one (no empty field)', () => {
    const event = terminalChangeOf(change('INSERT', undefined, terminal('tx_b', 'ABORTED')));
    expect(event).toBeDefined();
    expect(event).not.toHaveProperty('origin');
  });

  it('carries only the fields Tandem defines', () => {
    const event = transactionEvent({
      ...terminal('tx_c', 'COMMITTED'),
      origin: { source: 'api', key: 'k', extra: 'x' } as TxOrigin,
    });
    expect(event.origin).toEqual({ source: 'api', key: 'k' });
  });
});
