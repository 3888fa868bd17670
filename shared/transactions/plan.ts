import { createHash } from 'node:crypto';
import { ValidationError } from '../errors';
import { counterOpOf } from '../participant/counter';
import type { EntityRef } from '../ports';
import { canonicalJson, type JsonValue, type TxParticipant } from '../protocol';
import type { Operation, ParticipantRegistry } from '../registry';
import type { TransferRequest } from '../schemas';

/**
 * Pure mapping of a validated request to what the coordinator stores: participants with their
 * operations, the counter entities to look up first, the request hash and the transaction id.
 */

/** The participant `POST /transfers` moves amounts on unless the request names another. */
export const DEFAULT_TRANSFER_PARTICIPANT = 'ledger';

/**
 * `POST /transfers` is shorthand for a transaction on one counter participant (the ledger unless
 * `participant` says otherwise): its first taking action on `from`, its first giving one on `to`.
 */
export function transferOperations(transfer: TransferRequest, registry: ParticipantRegistry): Operation[] {
  const name = transfer.participant ?? DEFAULT_TRANSFER_PARTICIPANT;
  const counter = registry.spec(name)?.counter;
  const actions = Object.entries(counter?.actions ?? {});
  const take = actions.find(([, does]) => does === 'take')?.[0];
  const give = actions.find(([, does]) => does === 'give')?.[0];
  if (!counter || take === undefined || give === undefined) {
    throw new ValidationError(
      `a transfer needs a counter participant that takes and gives; '${name}' is ${counter ? 'a counter without both' : registry.spec(name) ? 'not a counter' : 'not a participant of this deployment'}`,
      [{ path: 'participant', message: `'${name}' cannot transfer` }],
    );
  }
  const op = (action: string, id: string): Operation => ({
    participant: name,
    action,
    [counter.idField]: id,
    [counter.amountField]: transfer.amount,
  });
  return [op(take, transfer.from), op(give, transfer.to)];
}

const byId = <T extends { readonly id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Each operation goes to its participant (the shard its key hashes to, for a sharded one), without
 * its `participant` field. Participants are sorted by id and each one's operations by their
 * canonical JSON, so the same set of operations always yields the same record, whatever order the
 * client used.
 */
export function planParticipants(
  operations: readonly Operation[],
  registry: ParticipantRegistry,
): TxParticipant[] {
  const groups = new Map<string, { kind: string; ops: Array<{ order: string; op: JsonValue }> }>();
  for (const op of operations) {
    const { participantId, spec, fields } = registry.route(op);
    const group = groups.get(participantId) ?? { kind: spec.name, ops: [] };
    // By the item they touch first (the account, the sku), then by all their fields.
    const item = canonicalJson((spec.itemKey ?? []).map((field) => fields[field] ?? null));
    group.ops.push({ order: `${item}\n${canonicalJson(fields)}`, op: fields });
    groups.set(participantId, group);
  }
  return [...groups]
    .map(([id, { kind, ops }]) => ({
      id,
      kind,
      operations: ops.sort((a, b) => byText(a.order, b.order)).map(({ op }) => op),
    }))
    .sort(byId);
}

/** The counter entities the operations touch, with their participant (for the existence check). */
export function entityRefsOf(operations: readonly Operation[], registry: ParticipantRegistry): EntityRef[] {
  return operations.flatMap((op) => {
    const { participantId, spec, fields } = registry.route(op);
    if (!spec.counter) return [];
    return [{ participantId, entity: spec.counter.entity, id: String(fields[spec.counter.idField]) }];
  });
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8');

/**
 * The hash of the normalized request — the planned participants and their operations, not the
 * idempotency key — that tells a retry from another request with the same key: the first 128 bits
 * of SHA-256, base64url (22 characters; the record is rewritten several times per transaction, and
 * every byte over a kilobyte costs a write unit each time). A transfer and the equivalent
 * `POST /transactions` hash alike.
 */
export function requestHashOf(participants: readonly TxParticipant[]): string {
  const normalized = participants.map((p) => ({ id: p.id, kind: p.kind, operations: p.operations }));
  return sha256(canonicalJson({ v: 2, participants: normalized }))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * The hash records written before operations were the participants' own (up to Tandem 0.1: 64 hex
 * characters over the counters' take/give operations), so a retry that spans an upgrade is still
 * recognised as the same request rather than answered 409.
 */
function legacyRequestHashOf(participants: readonly TxParticipant[], registry: ParticipantRegistry): string {
  const normalized = participants.map((p) => {
    const counter = registry.spec(p.kind)?.counter;
    const operations = counter
      ? p.operations
          .map((op) => counterOpOf(counter, op as Readonly<Record<string, unknown>>))
          .sort((a, b) => byText(a.id, b.id))
          .map(({ id, action, amount }) => ({ id, action, amount }))
      : p.operations;
    return { id: p.id, kind: p.kind, operations };
  });
  return sha256(canonicalJson({ v: 1, participants: normalized })).digest('hex');
}

/** A request's hash as it is stored, and whether a stored hash is the same request's. */
export interface RequestIdentity {
  readonly hash: string;
  matches(storedHash: string): boolean;
}

export function requestIdentityOf(
  participants: readonly TxParticipant[],
  registry: ParticipantRegistry,
): RequestIdentity {
  const hash = requestHashOf(participants);
  return {
    hash,
    matches: (stored) =>
      stored === hash ||
      (/^[0-9a-f]{64}$/.test(stored) && stored === legacyRequestHashOf(participants, registry)),
  };
}
