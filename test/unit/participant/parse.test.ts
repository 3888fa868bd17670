import { describe, expect, it } from 'vitest';
import { INVENTORY, LEDGER } from '../../../shared/bank-and-shop';
import { ValidationError } from '../../../shared/errors';
import {
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

describe('the ledger and the inventory (counter participants)', () => {
  it('name their participant and entity', () => {
    expect([
      LEDGER.kind,
      LEDGER.definition.counter?.entity,
      INVENTORY.kind,
      INVENTORY.definition.counter?.entity,
    ]).toEqual(['ledger', 'account', 'inventory', 'item']);
  });

  it('parse their operations into the take/give operations they reserve', () => {
    expect(
      LEDGER.parseOperations([
        { action: 'debit', accountId: 'alice', amount: 5 },
        { action: 'credit', accountId: 'bob', amount: 5 },
      ]),
    ).toEqual([
      { id: 'alice', action: 'take', amount: 5 },
      { id: 'bob', action: 'give', amount: 5 },
    ]);
    expect(INVENTORY.parseOperations([{ action: 'release', sku: 'pen', quantity: 2 }])).toEqual([
      { id: 'pen', action: 'give', amount: 2 },
    ]);
  });

  it(`refuse more than ${OPERATIONS_MAX} operations (one TransactWriteItems)`, () => {
    const ops = Array.from({ length: OPERATIONS_MAX + 1 }, (_, i) => ({
      action: 'release',
      sku: `a${i}`,
      quantity: 1,
    }));
    expect(INVENTORY.parseOperations(ops.slice(1))).toHaveLength(OPERATIONS_MAX);
    expect(() => INVENTORY.parseOperations(ops)).toThrow(ValidationError);
    expect(() => INVENTORY.parseOperations(ops)).toThrow(
      /^inventory operations is invalid: \(root\): must hold at most 99/,
    );
  });

  it.each([
    [
      'an id that is not an Identifier',
      [{ action: 'credit', accountId: 'a b', amount: 1 }],
      /0\.accountId: /,
    ],
    ['an unknown action', [{ action: 'steal', accountId: 'a', amount: 1 }], /0\.action: /],
    ['a zero amount', [{ action: 'debit', accountId: 'a', amount: 0 }], /0\.amount: /],
    ['an unknown field', [{ action: 'debit', accountId: 'a', amount: 1, memo: 'x' }], /memo/],
    [
      'two operations on one account',
      [
        { action: 'debit', accountId: 'a', amount: 1 },
        { action: 'credit', accountId: 'a', amount: 1 },
      ],
      /1\.accountId: names the same item as operation 0/,
    ],
  ])('refuse %s (the NO vote names it)', (_name, ops, reason) => {
    expect(() => LEDGER.parseOperations(ops)).toThrow(reason);
  });
});
