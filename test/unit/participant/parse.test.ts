import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import {
  INVENTORY,
  LEDGER,
  MalformedParticipantMessageError,
  OPERATIONS_MAX,
  parseParticipantMessage,
} from '../../../shared/participant';

describe('parseParticipantMessage', () => {
  it.each([
    [
      {
        type: 'Prepare',
        txId: 't',
        participantId: 'ledger-0',
        operations: [{ id: 'a', action: 'take', amount: 1 }],
      },
    ],
    [
      {
        type: 'Prepare',
        txId: 't',
        participantId: 'ledger-0',
        operations: ['opaque', 1, null, { deep: [true] }],
      },
    ],
    [{ type: 'Commit', txId: 't', participantId: 'ledger-0' }],
    [{ type: 'Abort', txId: 't', participantId: 'inventory' }],
    [{ type: 'Commit', txId: 'tx_k.inc', participantId: 'ledger-0', slot: 37 }],
  ])('reads %j', (message) => {
    expect(parseParticipantMessage(JSON.stringify(message))).toEqual(message);
  });

  it('drops unknown fields (a tolerant reader)', () => {
    const body = JSON.stringify({ type: 'Commit', txId: 't', participantId: 'p', traceId: 'x' });
    expect(parseParticipantMessage(body)).toEqual({ type: 'Commit', txId: 't', participantId: 'p' });
  });

  it.each([
    ['not JSON', '{"type":', /participant message is not JSON: \{"type":/],
    [
      'an unknown type',
      '{"type":"Vote","txId":"t","participantId":"p"}',
      /^malformed participant message: type: /,
    ],
    ['a missing txId', '{"type":"Commit","participantId":"p"}', /txId: /],
    ['an empty participantId', '{"type":"Abort","txId":"t","participantId":""}', /participantId: /],
    [
      'a # in the participantId',
      '{"type":"Abort","txId":"t","participantId":"a#b"}',
      /participantId: must not contain #/,
    ],
    [
      'operations that are not a list',
      '{"type":"Prepare","txId":"t","participantId":"p","operations":{}}',
      /operations: /,
    ],
    ['a Prepare without operations', '{"type":"Prepare","txId":"t","participantId":"p"}', /operations: /],
    ['a negative slot', '{"type":"Abort","txId":"t","participantId":"p","slot":-1}', /slot: /],
    ['a fractional slot', '{"type":"Abort","txId":"t","participantId":"p","slot":1.5}', /slot: /],
    [
      'a slot past the largest count',
      '{"type":"Abort","txId":"t","participantId":"p","slot":1024}',
      /slot: /,
    ],
    ['a slot that is not a number', '{"type":"Abort","txId":"t","participantId":"p","slot":"7"}', /slot: /],
  ])('throws MalformedParticipantMessageError for %s', (_name, body, message) => {
    expect(() => parseParticipantMessage(body)).toThrow(MalformedParticipantMessageError);
    expect(() => parseParticipantMessage(body)).toThrow(message);
  });
});

describe('participant kinds', () => {
  it('name their service and entity kind', () => {
    expect([LEDGER.kind, LEDGER.entityKind, INVENTORY.kind, INVENTORY.entityKind]).toEqual([
      'ledger',
      'account',
      'inventory',
      'item',
    ]);
  });

  it('parse EntityOps', () => {
    const ops = [
      { id: 'alice', action: 'take', amount: 5 },
      { id: 'bob', action: 'give', amount: 5 },
    ];
    expect(LEDGER.parseOperations(ops)).toEqual(ops);
  });

  it(`refuse more than ${OPERATIONS_MAX} operations (one TransactWriteItems)`, () => {
    const ops = Array.from({ length: OPERATIONS_MAX + 1 }, (_, i) => ({
      id: `a${i}`,
      action: 'give',
      amount: 1,
    }));
    expect(LEDGER.parseOperations(ops.slice(1))).toHaveLength(OPERATIONS_MAX);
    expect(() => INVENTORY.parseOperations(ops)).toThrow(ValidationError);
    expect(() => INVENTORY.parseOperations(ops)).toThrow(
      /^inventory operations is invalid: \(root\): must hold at most 99/,
    );
  });

  it('refuse an id that is not an Identifier', () => {
    expect(() => LEDGER.parseOperations([{ id: 'a b', action: 'give', amount: 1 }])).toThrow(/0\.id: /);
  });
});
