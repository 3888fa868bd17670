import { type CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ConflictPoint } from '../faults';
import { txIdOfItem } from './dynamo-tx-store';

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/**
 * Injected write conflicts, for fault plans of test deployments (see DynamoFaultSource). DynamoDB
 * cancels a `TransactWriteItems` when another transaction holds one of its items; the emulator
 * serialises every request and never does. A conflicting client makes the same answer happen
 * below a store, so the store's classification (dynamo-errors.ts) and the shell's backoff run as
 * they would on AWS:
 *
 *   store ─ TransactWriteCommand ─▶ conflicting client ─ targets the point's item of txId?
 *                                        │ no, or the plan grants no conflict ──▶ the real client
 *                                        └ yes, and claimed on the plan item ──▶ throws, nothing sent:
 *       TransactionCanceledException [None, …, TransactionConflict (the target), …, None]
 */

/**
 * The action a conflict at `point` lands on, for transaction `txId`: at `coordinator.save` the Put
 * of the transaction record (the item keyed by its record key, with its incarnation beside it: see
 * txItemOf), at `participant.write` the Put of the participant's barrier (the item of kind
 * `barrier`, which names the whole id: see DynamoParticipantStore).
 */
export function isConflictTarget(point: ConflictPoint, txId: string, action: TransactItem): boolean {
  const item = action.Put?.Item;
  if (item === undefined || typeof item.txId !== 'string') return false;
  switch (point) {
    case 'coordinator.save':
      return item.pk === undefined && txIdOfItem(item as { txId: string; incarnation?: string }) === txId;
    case 'participant.write':
      return item.kind === 'barrier' && item.txId === txId;
  }
}

/**
 * What DynamoDB answers a `TransactWriteItems` of `actions` actions whose action `target` another
 * transaction holds: cancelled, `TransactionConflict` at `target`, `None` for the others.
 */
export function transactionConflict(actions: number, target: number): TransactionCanceledException {
  const reasons: CancellationReason[] = Array.from({ length: actions }, (_, i) =>
    i === target
      ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
      : { Code: 'None' },
  );
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: reasons,
  });
}

/**
 * `base`, except that a `TransactWriteCommand` with an action on `point`'s item of `txId` is
 * cancelled as a conflict whenever `claim()` grants one (it counts the injection); every other
 * command, and a write no conflict is granted for, goes to `base`.
 */
export function conflictingClient(
  base: DynamoDBDocumentClient,
  point: ConflictPoint,
  txId: string,
  claim: () => Promise<boolean>,
): DynamoDBDocumentClient {
  const send = async (command: unknown, ...rest: unknown[]) => {
    if (command instanceof TransactWriteCommand) {
      const actions = command.input.TransactItems ?? [];
      const target = actions.findIndex((action) => isConflictTarget(point, txId, action));
      if (target >= 0 && (await claim())) throw transactionConflict(actions.length, target);
    }
    return (base.send as (...args: unknown[]) => Promise<unknown>).call(base, command, ...rest);
  };
  // Everything but `send` is the base client's own (config, middleware, destroy).
  return new Proxy(base, {
    get: (target, property) => (property === 'send' ? send : Reflect.get(target, property, target)),
  });
}
