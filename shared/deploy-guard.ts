/**
 * The deploy guard: the settings a deployed stack may never change, and the rule that refuses a
 * deploy that would change them. Pure: the custom resource's handler (functions/deploy-guard)
 * feeds it CloudFormation's request and sends back what it answers.
 *
 * - `ledgerShards` may not change at all: an account's shard is `fnv1a32(accountId) mod
 *   ledgerShards`, so any other count looks for existing accounts on shards that do not hold them.
 * - No participant may be removed: removing one deletes its table, inbox queue and function, with
 *   the accounts, holds and barrier items it may still hold. Adding one is allowed.
 *
 * What the stack was last deployed with is recorded in the guard's physical resource id, not read
 * from `OldResourceProperties`. The two differ exactly when it matters: when an update is refused,
 * CloudFormation rolls back by sending the guard one more update, back from the refused settings
 * to the deployed ones, and that update must pass (compared with `OldResourceProperties` it would be
 * refused too, and the stack would be left UPDATE_ROLLBACK_FAILED). An accepted change answers a new
 * physical id, which CloudFormation treats as a replacement: it deletes the old id once the update
 * succeeds, or the new one if the update rolls back, so the id always names the deployed settings.
 */

import type { CustomResourceAnswer } from './adapters/cfn-response';

/** The CloudFormation type of the guard's custom resource. */
export const DEPLOY_GUARD_TYPE = 'Custom::TandemDeployGuard';

/** The settings a deployed stack keeps for good. */
export interface FixedSettings {
  readonly ledgerShards: number;
  /** Participant ids (`ledger-0`, …, `inventory`), sorted, without duplicates. */
  readonly participants: readonly string[];
}

/** The guard's properties as the template sets them. CloudFormation hands primitives back as strings. */
export interface DeployGuardProperties {
  readonly LedgerShards: string;
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

const ID_PREFIX = 'tandem-deploy-guard/v1';
const ID_PATTERN = /^tandem-deploy-guard\/v1\/ledgerShards=(\d+)\/participants=([A-Za-z0-9_.:@,-]*)$/;
/** Answered for a Create that was refused: nothing was deployed, so there is nothing to name. */
const REFUSED_CREATE_ID = `${ID_PREFIX}/refused`;
const PARTICIPANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
const REFUSED = 'Tandem refused this deploy before it changed any table, queue or function of the app.';

export function guardProperties(settings: FixedSettings): DeployGuardProperties {
  return {
    LedgerShards: String(settings.ledgerShards),
    Participants: [...normalised(settings.participants)],
  };
}

/** The physical resource id that records `settings` as deployed (under 400 characters with 32 shards). */
export function physicalIdOf(settings: FixedSettings): string {
  return `${ID_PREFIX}/ledgerShards=${settings.ledgerShards}/participants=${normalised(settings.participants).join(',')}`;
}

/** The settings a physical id records, or undefined when it is not one of the guard's ids. */
export function settingsOfPhysicalId(physicalId: string | undefined): FixedSettings | undefined {
  const match = ID_PATTERN.exec(physicalId ?? '');
  if (!match) return undefined;
  const parsed = parseProperties({
    LedgerShards: match[1],
    Participants: match[2] ? match[2].split(',') : [],
  });
  return typeof parsed === 'string' ? undefined : parsed;
}

/** Reads the guard's properties, as the template or CloudFormation give them; a string says what is wrong. */
export function parseProperties(properties: unknown): FixedSettings | string {
  if (typeof properties !== 'object' || properties === null) return 'no properties';
  const { LedgerShards: shards, Participants: participants } = properties as Record<string, unknown>;
  const shardsText = typeof shards === 'number' ? String(shards) : shards;
  if (typeof shardsText !== 'string' || !/^[1-9]\d{0,5}$/.test(shardsText)) {
    return `LedgerShards must be a positive integer, got ${JSON.stringify(shards) ?? 'nothing'}`;
  }
  if (!Array.isArray(participants) || participants.length === 0) {
    return `Participants must be a non-empty list of participant ids, got ${JSON.stringify(participants) ?? 'nothing'}`;
  }
  const bad = participants.findIndex((p) => typeof p !== 'string' || !PARTICIPANT_ID.test(p));
  if (bad >= 0)
    return `Participants holds an invalid participant id: ${JSON.stringify(participants[bad]) ?? 'nothing'}`;
  return { ledgerShards: Number(shardsText), participants: normalised(participants as string[]) };
}

/**
 * Why a deploy from `deployed` to `requested` must be refused, one sentence each; empty when it may go
 * ahead.
 */
export function refusalsOf(deployed: FixedSettings, requested: FixedSettings): string[] {
  const refusals: string[] = [];
  if (requested.ledgerShards !== deployed.ledgerShards) {
    refusals.push(
      `ledgerShards cannot change on a deployed stack (it was ${deployed.ledgerShards}, this deploy asks for ` +
        `${requested.ledgerShards}): an account's shard is a hash of its id over the shard count, so another ` +
        'count would look for existing accounts on shards that do not hold them. Deploy with ' +
        `-c ledgerShards=${deployed.ledgerShards}, or deploy a new stack and move the accounts to it.`,
    );
  }
  const removed = deployed.participants.filter((p) => !requested.participants.includes(p));
  if (removed.length > 0) {
    const names = removed.join(', ');
    refusals.push(
      `This deploy would remove participant${removed.length > 1 ? 's' : ''} ${names} with ` +
        `${removed.length > 1 ? 'their tables, inbox queues and functions' : 'its table, inbox queue and function'}: ` +
        `${names} may still hold accounts, holds and barrier items of transactions, which would be lost with ` +
        'them, and transactions in flight could never finish. Deploy with the settings that keep every ' +
        'participant the stack has.',
    );
  }
  return refusals;
}

/**
 * The guard's answer to one CloudFormation request. Create and Delete always succeed (deleting the
 * whole stack is a decision of its own, guarded in prod by the tables' retention); an Update is
 * refused when it changes the shard count or removes a participant, or when either side cannot be
 * read — a guard that cannot tell what it guards refuses rather than guesses.
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
  if (request.RequestType === 'Update') {
    const fromOld = parseProperties(request.OldResourceProperties);
    const deployed =
      settingsOfPhysicalId(request.PhysicalResourceId) ?? (typeof fromOld === 'string' ? undefined : fromOld);
    if (deployed === undefined) {
      return refuse(
        'The deploy guard cannot tell which settings the stack was deployed with (physical id ' +
          `${JSON.stringify(request.PhysicalResourceId ?? null)}; old properties: ${fromOld}), so it cannot ` +
          'tell whether this deploy would move accounts or delete a participant. Deploy with the version of ' +
          'Tandem that deployed the stack.',
      );
    }
    const refusals = refusalsOf(deployed, requested);
    if (refusals.length > 0) return refuse(...refusals);
  }
  return { status: 'SUCCESS', physicalResourceId: physicalIdOf(requested) };
}

function normalised(participants: readonly string[]): string[] {
  return [...new Set(participants)].sort();
}
