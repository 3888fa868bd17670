import { createHash } from 'node:crypto';
import type { EntityOp } from '../entities';
import { shardOf } from '../ledger/sharding';
import type { EntityRef } from '../ports';
import type { JsonValue, TxParticipant } from '../protocol';
import { entityOf, type Operation, type TransferRequest } from '../schemas';

/**
 * Pure mapping of a validated request to what the coordinator stores: participants with their
 * EntityOps, the entities to look up first, the request hash and the transaction id.
 */

/** Participant id of the inventory service (there is one inventory table). */
export const INVENTORY_PARTICIPANT = 'inventory';

/** Participant id of a ledger shard, e.g. `ledger-0`. */
export const ledgerParticipantId = (shard: number) => `ledger-${shard}`;

/** `POST /transfers` is shorthand for a transaction: a ledger debit of `from`, a credit of `to`. */
export function transferOperations(transfer: TransferRequest): Operation[] {
  return [
    { participant: 'ledger', action: 'debit', accountId: transfer.from, amount: transfer.amount },
    { participant: 'ledger', action: 'credit', accountId: transfer.to, amount: transfer.amount },
  ];
}

function entityOpOf(op: Operation): EntityOp {
  if (op.participant === 'ledger') {
    return { id: op.accountId, action: op.action === 'debit' ? 'take' : 'give', amount: op.amount };
  }
  return { id: op.sku, action: op.action === 'reserve' ? 'take' : 'give', amount: op.quantity };
}

const byId = <T extends { readonly id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Ledger operations go to the participant of their account's shard (`ledger-<shard>`), inventory
 * operations to `inventory`. Participants are sorted by id and each one's operations by entity id,
 * so the same set of operations always yields the same record, whatever order the client used.
 */
export function planParticipants(
  operations: readonly Operation[],
  ledgerShardCount: number,
): TxParticipant[] {
  const groups = new Map<string, { kind: string; ops: EntityOp[] }>();
  for (const op of operations) {
    const [id, kind] =
      op.participant === 'ledger'
        ? [ledgerParticipantId(shardOf(op.accountId, ledgerShardCount)), 'ledger']
        : [INVENTORY_PARTICIPANT, 'inventory'];
    const group = groups.get(id) ?? { kind, ops: [] };
    group.ops.push(entityOpOf(op));
    groups.set(id, group);
  }
  return [...groups]
    .map(([id, { kind, ops }]) => ({
      id,
      kind,
      operations: ops.sort(byId).map((op) => ({ id: op.id, action: op.action, amount: op.amount })),
    }))
    .sort(byId);
}

/** The entities the operations touch, with the shard they live on (for the existence check). */
export function entityRefsOf(operations: readonly Operation[], ledgerShardCount: number): EntityRef[] {
  return operations.map((op) => {
    const { kind, id } = entityOf(op);
    return { kind, id, shard: kind === 'account' ? shardOf(id, ledgerShardCount) : 0 };
  });
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as { readonly [key: string]: JsonValue })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
  return `{${entries.join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8');

/**
 * SHA-256 (hex) of the normalized request: the planned participants and their operations, not the
 * idempotency key. A transfer and the equivalent `POST /transactions` hash alike.
 */
export function requestHashOf(participants: readonly TxParticipant[]): string {
  const normalized = participants.map((p) => ({ id: p.id, kind: p.kind, operations: p.operations }));
  return sha256(canonicalJson({ v: 1, participants: normalized })).digest('hex');
}
