/**
 * The deploy guard: the settings a deployed stack may never change, and the rule that refuses a
 * deploy that would change them. Pure: the custom resource's handler (functions/deploy-guard)
 * feeds it CloudFormation's request and sends back what it answers.
 *
 * - A sharded participant keeps its shard count: an item's shard is a hash of its key over the
 *   count (shared/registry.ts), so any other count looks for existing items on shards that do not
 *   hold them. A participant that first appears sharded may have any count.
 * - No participant id may be removed: removing one deletes its table, inbox queue and function,
 *   with the items and barrier items it may still hold. Adding one is allowed. A participant that
 *   goes from unsharded to sharded (or back) changes its ids (`seats` ↔ `seats-0`, …), so this rule
 *   refuses that too.
 *
 * What the stack was last deployed with is recorded in the guard's physical resource id, not read
 * from `OldResourceProperties`. The two differ exactly when it matters: when an update is refused,
 * CloudFormation rolls back by sending the guard one more update, back from the refused settings
 * to the deployed ones, and that update must pass (compared with `OldResourceProperties` it would be
 * refused too, and the stack would be left UPDATE_ROLLBACK_FAILED). An accepted change answers a new
 * physical id, which CloudFormation treats as a replacement: it deletes the old id once the update
 * succeeds, or the new one if the update rolls back, so the id always names the deployed settings.
 * An update that keeps the settings keeps the id, whatever its format.
 *
 * Physical ids:
 * - `tandem-deploy-guard/v2/shards=ledger:2,seats:4/unsharded=inventory`: each sharded participant's
 *   name and count, then every other participant id (a sharded participant's ids follow from its
 *   count, so they are not repeated).
 * - `tandem-deploy-guard/v2/sha256=<64 hex digits>` when that would be longer than
 *   READABLE_ID_MAX_CHARS: a digest of the settings. It cannot be read back, only compared: the
 *   deployed settings are then `OldResourceProperties`, trusted only when their digest is the id's
 *   (and the rollback is recognised by its properties having the id's digest).
 * - `tandem-deploy-guard/v1/ledgerShards=2/participants=inventory,ledger-0,ledger-1`, answered by the
 *   previous version (which knew only the ledger), is still read, as shards `{ ledger: 2 }`.
 */

import { createHash } from 'node:crypto';
import type { CustomResourceAnswer } from './adapters/cfn-response';

/** The CloudFormation type of the guard's custom resource. */
export const DEPLOY_GUARD_TYPE = 'Custom::TandemDeployGuard';

/** The settings a deployed stack keeps for good. */
export interface FixedSettings {
  /** Each sharded participant's name → its shard count (`ledger: 2` is participants ledger-0, ledger-1). */
  readonly shards: Readonly<Record<string, number>>;
  /** Participant ids (`ledger-0`, …, `inventory`), sorted, without duplicates. */
  readonly participants: readonly string[];
}

/**
 * The guard's properties as the template sets them. CloudFormation hands primitives back as strings,
 * so the shard counts are written as decimal strings from the start.
 */
export interface DeployGuardProperties {
  readonly Shards: Record<string, string>;
  readonly Participants: string[];
}

/** What a request to the guard carries that the decision reads (a subset of CloudFormation's event). */
export interface GuardRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: unknown;
  readonly OldResourceProperties?: unknown;
  readonly PhysicalResourceId?: string;
}

export type GuardAnswer = CustomResourceAnswer;

/** Most shards of one participant: shared/registry.ts's SHARDS_MAX (a unit test keeps them equal). */
export const GUARD_SHARDS_MAX = 32;
/** shared/registry.ts's rule for a participant's name. */
const PARTICIPANT_NAME = /^[a-z][a-z0-9-]{0,47}$/;
const PARTICIPANT_NAME_RULE = '1–48 characters: a lower-case letter, then a-z 0-9 -';
const PARTICIPANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
const SHARD_COUNT_TEXT = /^[1-9][0-9]?$/;

/**
 * CloudFormation accepts a physical id of up to 1 KB, but the whole answer must fit in 4 KB, next to
 * a refusal's reason of up to 3,000 characters (shared/adapters/cfn-response.ts), the stack id and
 * the logical id. A readable id longer than this is replaced by the digest form.
 */
export const READABLE_ID_MAX_CHARS = 400;

const ID_PREFIX = 'tandem-deploy-guard/v2';
const V2_ID = /^tandem-deploy-guard\/v2\/shards=([a-z0-9:,-]*)\/unsharded=([A-Za-z0-9_.:@,-]*)$/;
const V2_DIGEST_ID = /^tandem-deploy-guard\/v2\/sha256=([0-9a-f]{64})$/;
const V1_ID = /^tandem-deploy-guard\/v1\/ledgerShards=(\d+)\/participants=([A-Za-z0-9_.:@,-]*)$/;
/** Answered for a Create that was refused: nothing was deployed, so there is nothing to name. */
const REFUSED_CREATE_ID = `${ID_PREFIX}/refused`;
const REFUSED = 'Tandem refused this deploy before it changed any table, queue or function of the app.';

/** The participant ids of `name` with `count` shards (shared/registry.ts's `participantIdsOf`). */
const shardIdsOf = (name: string, count: number) =>
  Array.from({ length: count }, (_, shard) => `${name}-${shard}`);

export function guardProperties(settings: FixedSettings): DeployGuardProperties {
  const { shards, participants } = normalised(settings);
  return {
    Shards: Object.fromEntries(Object.entries(shards).map(([name, count]) => [name, String(count)])),
    Participants: [...participants],
  };
}

/** The physical resource id that records `settings` as deployed (see the formats above). */
export function physicalIdOf(settings: FixedSettings): string {
  const { shards, participants } = normalised(settings);
  const sharded = Object.entries(shards).map(([name, count]) => `${name}:${count}`);
  const implied = new Set(Object.entries(shards).flatMap(([name, count]) => shardIdsOf(name, count)));
  const unsharded = participants.filter((p) => !implied.has(p));
  const readable = `${ID_PREFIX}/shards=${sharded.join(',')}/unsharded=${unsharded.join(',')}`;
  return readable.length <= READABLE_ID_MAX_CHARS ? readable : `${ID_PREFIX}/sha256=${digestOf(settings)}`;
}

/** What a physical id of the guard records: the settings, or only their digest. */
export type Recorded =
  | { readonly kind: 'settings'; readonly settings: FixedSettings }
  | { readonly kind: 'digest'; readonly digest: string };

/** What `physicalId` records, or undefined when it is not one of the guard's ids. */
export function recordedIn(physicalId: string | undefined): Recorded | undefined {
  const id = physicalId ?? '';
  const digest = V2_DIGEST_ID.exec(id);
  if (digest) return { kind: 'digest', digest: digest[1]! };
  const v2 = V2_ID.exec(id);
  if (v2) {
    const entries = v2[1] ? v2[1].split(',').map((entry) => entry.split(':')) : [];
    const shards = entries.every((entry) => entry.length === 2)
      ? parseShards(Object.fromEntries(entries))
      : '';
    if (typeof shards === 'string') return undefined;
    const settings = parseProperties({
      Shards: shards,
      Participants: [
        ...Object.entries(shards).flatMap(([name, count]) => shardIdsOf(name, count)),
        ...(v2[2] ? v2[2].split(',') : []),
      ],
    });
    // Only the id the guard itself answers for these settings (no duplicates, no other order).
    return typeof settings !== 'string' && physicalIdOf(settings) === id
      ? { kind: 'settings', settings }
      : undefined;
  }
  const v1 = V1_ID.exec(id);
  if (v1) {
    const settings = parseProperties({ LedgerShards: v1[1], Participants: v1[2] ? v1[2].split(',') : [] });
    return typeof settings === 'string' ? undefined : { kind: 'settings', settings };
  }
  return undefined;
}

/** The settings a physical id records, or undefined when it records none (a digest, or not the guard's). */
export function settingsOfPhysicalId(physicalId: string | undefined): FixedSettings | undefined {
  const recorded = recordedIn(physicalId);
  return recorded?.kind === 'settings' ? recorded.settings : undefined;
}

/** A digest of `settings` that does not depend on the order they are listed in (SHA-256, hex). */
export function digestOf(settings: FixedSettings): string {
  const { shards, participants } = normalised(settings);
  return createHash('sha256')
    .update(JSON.stringify({ shards: Object.entries(shards), participants }))
    .digest('hex');
}

/**
 * Reads the guard's properties, as the template or CloudFormation give them; a string says what is
 * wrong. Also reads the previous version's `LedgerShards` (instead of `Shards`), which a rollback
 * of the upgrade from it sends back.
 */
export function parseProperties(properties: unknown): FixedSettings | string {
  if (typeof properties !== 'object' || properties === null) return 'no properties';
  const { Shards, LedgerShards, Participants: participants } = properties as Record<string, unknown>;
  let shards: Record<string, number> | string;
  if (Shards !== undefined && LedgerShards !== undefined) {
    shards = 'Shards and LedgerShards are both set (LedgerShards is what Tandem wrote before Shards)';
  } else if (Shards !== undefined) {
    shards = parseShards(Shards);
  } else if (LedgerShards !== undefined) {
    const count = shardCountOf(LedgerShards);
    shards =
      count === undefined
        ? `LedgerShards must be a shard count from 1 to ${GUARD_SHARDS_MAX}, got ${JSON.stringify(LedgerShards)}`
        : { ledger: count };
  } else {
    // No sharded participant: the template writes `Shards: {}`, which may not survive the trip.
    shards = {};
  }
  if (typeof shards === 'string') return shards;
  if (!Array.isArray(participants) || participants.length === 0) {
    return `Participants must be a non-empty list of participant ids, got ${JSON.stringify(participants) ?? 'nothing'}`;
  }
  const bad = participants.findIndex((p) => typeof p !== 'string' || !PARTICIPANT_ID.test(p));
  if (bad >= 0) {
    return `Participants holds an invalid participant id: ${JSON.stringify(participants[bad]) ?? 'nothing'}`;
  }
  const ids = new Set(participants as string[]);
  for (const [name, count] of Object.entries(shards)) {
    if (ids.has(name)) {
      return `participant '${name}' is both sharded (Shards gives it ${count}) and unsharded (Participants holds '${name}')`;
    }
    const missing = shardIdsOf(name, count).filter((id) => !ids.has(id));
    if (missing.length > 0) {
      return `Shards gives participant '${name}' ${count} shard${count > 1 ? 's' : ''}, but Participants lacks ${missing.join(', ')}`;
    }
  }
  return normalised({ shards, participants: participants as string[] });
}

function parseShards(shards: unknown): Record<string, number> | string {
  if (typeof shards !== 'object' || shards === null || Array.isArray(shards)) {
    return `Shards must be an object of participant name → shard count, got ${JSON.stringify(shards)}`;
  }
  const out: Record<string, number> = {};
  for (const [name, text] of Object.entries(shards)) {
    if (!PARTICIPANT_NAME.test(name)) {
      return `Shards holds an invalid participant name: ${JSON.stringify(name)} (a name is ${PARTICIPANT_NAME_RULE})`;
    }
    const count = shardCountOf(text);
    if (count === undefined) {
      return `Shards.${name} must be a shard count from 1 to ${GUARD_SHARDS_MAX}, got ${JSON.stringify(text) ?? 'nothing'}`;
    }
    out[name] = count;
  }
  return out;
}

/** A shard count as CloudFormation sends it (a decimal string) or a template may write it (a number). */
function shardCountOf(value: unknown): number | undefined {
  const count =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && SHARD_COUNT_TEXT.test(value)
        ? +value
        : 0;
  return Number.isInteger(count) && count >= 1 && count <= GUARD_SHARDS_MAX ? count : undefined;
}

/**
 * Why a deploy from `deployed` to `requested` must be refused, one sentence each; empty when it may go
 * ahead.
 */
function refusalsOf(deployed: FixedSettings, requested: FixedSettings): string[] {
  const refusals: string[] = [];
  for (const [name, was] of Object.entries(deployed.shards)) {
    const asked = Object.hasOwn(requested.shards, name) ? requested.shards[name] : undefined;
    if (asked === undefined || asked === was) continue;
    const ownApp = name === 'ledger' ? ` (in Tandem's own app: deploy with -c ledgerShards=${was})` : '';
    refusals.push(
      `Participant '${name}' cannot change its shard count on a deployed stack (it was ${was}, this deploy ` +
        `asks for ${asked}): an item's shard is a hash of its key over the shard count, so another count ` +
        `would look for existing items on shards that do not hold them. Keep shards: ${was} for participant ` +
        `'${name}'${ownApp}, or deploy a new stack and move the data of '${name}' to it.`,
    );
  }
  const unsharded = (s: FixedSettings, name: string) =>
    s.participants.includes(name) && !Object.hasOwn(s.shards, name);
  for (const [name, count] of Object.entries(requested.shards)) {
    if (unsharded(deployed, name)) refusals.push(reshaped(name, count, 'to sharded'));
  }
  for (const [name, count] of Object.entries(deployed.shards)) {
    if (unsharded(requested, name)) refusals.push(reshaped(name, count, 'to unsharded'));
  }
  const removed = deployed.participants.filter((p) => !requested.participants.includes(p));
  if (removed.length > 0) {
    const many = removed.length > 1;
    const names = removed.join(', ');
    refusals.push(
      `This deploy would remove participant${many ? 's' : ''} ${names} with ` +
        `${many ? 'their tables, inbox queues and functions' : 'its table, inbox queue and function'}: ` +
        `${names} may still hold items and the barrier items of transactions, which would be lost with ` +
        `${many ? 'them' : 'it'}, and transactions in flight could never finish. Deploy with the settings ` +
        'that keep every participant the stack has.',
    );
  }
  return refusals;
}

/** Why `name` may not go from unsharded to `count` shards, or back. */
function reshaped(name: string, count: number, direction: 'to sharded' | 'to unsharded'): string {
  const ids = count > 1 ? `${name}-0 … ${name}-${count - 1}` : `${name}-0`;
  const sharded = `${count} shard${count > 1 ? 's' : ''}`;
  const [from, to] = direction === 'to sharded' ? ['unsharded', sharded] : [sharded, 'unsharded'];
  const [before, after] = direction === 'to sharded' ? [name, ids] : [ids, name];
  return (
    `Participant '${name}' cannot go from ${from} to ${to} on a deployed stack: its participant ids would ` +
    `change from ${before} to ${after}, and its items would be left on the tables of the ids it had. ` +
    `Keep it ${from}, or deploy a new stack and move the data of '${name}' to it.`
  );
}

/**
 * The guard's answer to one CloudFormation request. Create and Delete always succeed (deleting the
 * whole stack is a decision of its own, guarded in prod by the tables' retention); an Update is
 * refused when it changes a participant's shard count or removes a participant id, or when either
 * side cannot be read — a guard that cannot tell what it guards refuses rather than guesses.
 */
export function decide(request: GuardRequest): GuardAnswer {
  // A Create has no physical id yet; a refused one answers REFUSED_CREATE_ID.
  const current = request.PhysicalResourceId ?? REFUSED_CREATE_ID;
  const refuse = (...reasons: string[]): GuardAnswer => ({
    status: 'FAILED',
    physicalResourceId: current,
    reason: [REFUSED, ...reasons].join(' '),
  });
  if (request.RequestType === 'Delete') return { status: 'SUCCESS', physicalResourceId: current };
  const requested = parseProperties(request.ResourceProperties);
  if (typeof requested === 'string') {
    return refuse(
      `The deploy guard cannot read the settings this deploy asks for (${requested}): the template was not made by Tandem's app.`,
    );
  }
  if (request.RequestType === 'Create') {
    return { status: 'SUCCESS', physicalResourceId: physicalIdOf(requested) };
  }

  const recorded = recordedIn(request.PhysicalResourceId);
  const fromOld = parseProperties(request.OldResourceProperties);
  let deployed: FixedSettings | undefined;
  let oldProperties = typeof fromOld === 'string' ? fromOld : 'readable';
  if (recorded?.kind === 'settings') {
    deployed = recorded.settings;
  } else if (recorded?.kind === 'digest') {
    // The settings themselves are not in the id: the same settings (a rollback, or an update of
    // something else) keep it; otherwise the old properties count when they are what the id records.
    if (digestOf(requested) === recorded.digest) return { status: 'SUCCESS', physicalResourceId: current };
    if (typeof fromOld !== 'string' && digestOf(fromOld) === recorded.digest) deployed = fromOld;
    else if (typeof fromOld !== 'string') oldProperties = 'not the settings the physical id records';
  } else if (typeof fromOld !== 'string') {
    deployed = fromOld;
  }
  if (deployed === undefined) {
    return refuse(
      'The deploy guard cannot tell which settings the stack was deployed with (physical id ' +
        `${JSON.stringify(request.PhysicalResourceId ?? null)}; old properties: ${oldProperties}), so it ` +
        'cannot tell whether this deploy would move items to other shards or delete a participant. Deploy ' +
        'with the version of Tandem that deployed the stack.',
    );
  }
  const refusals = refusalsOf(deployed, requested);
  if (refusals.length > 0) return refuse(...refusals);
  const unchanged = recorded !== undefined && digestOf(deployed) === digestOf(requested);
  return { status: 'SUCCESS', physicalResourceId: unchanged ? current : physicalIdOf(requested) };
}

/** `settings` as the guard records them: shards by name, participant ids sorted and without duplicates. */
function normalised(settings: FixedSettings): FixedSettings {
  const names = Object.keys(settings.shards).sort();
  return {
    shards: Object.fromEntries(names.map((name) => [name, settings.shards[name]!])),
    participants: [...new Set(settings.participants)].sort(),
  };
}
