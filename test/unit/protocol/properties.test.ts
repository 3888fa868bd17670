import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Barrier,
  type BusinessAction,
  type CoordinatorEffect,
  type CoordinatorInput,
  coordinatorStep,
  type Decide,
  type Decision,
  decisionOf,
  isTerminal,
  type JsonValue,
  type ParticipantMessage,
  ProtocolAssertionError,
  participantStep,
  startTransaction,
  type TxRecord,
} from '../../../shared/protocol';
import { config, deepFreeze, participants, T0, TX } from './helpers';

// ─── (a) The coordinator in a small, adversarial world ─────────────────────────────────────────
//
// One coordinator, N participants (real barriers, a decide that answers from a plan), and a bag
// of in-flight messages. Each scheduled action delivers a message (optionally keeping a copy:
// duplication), drops one, reorders by picking any, advances the clock, fires an early or due
// Check, or asks for an operator abort. Then the faults stop and the world is drained.

type Flight =
  | { readonly to: 'coordinator'; readonly input: CoordinatorInput }
  | { readonly to: 'participant'; readonly message: ParticipantMessage };

type Action =
  | { readonly kind: 'deliver'; readonly pick: number; readonly duplicate: boolean }
  | { readonly kind: 'drop'; readonly pick: number }
  | { readonly kind: 'tick'; readonly ms: number }
  | { readonly kind: 'check' }
  | { readonly kind: 'operatorAbort' };

/** Each run gets a profile: how fast the clock runs and whether an operator may intervene. */
const actionsArb = (maxLength: number): fc.Arbitrary<Action[]> =>
  fc
    .record({ tickMaxMs: fc.constantFrom(500, 3_000, 8_000, 20_000), operator: fc.boolean() })
    .chain(({ tickMaxMs, operator }) =>
      fc.array(
        fc.oneof(
          {
            weight: 12,
            arbitrary: fc.record({ kind: fc.constant('deliver'), pick: fc.nat(), duplicate: fc.boolean() }),
          },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop'), pick: fc.nat() }) },
          {
            weight: 3,
            arbitrary: fc.record({ kind: fc.constant('tick'), ms: fc.integer({ min: 0, max: tickMaxMs }) }),
          },
          { weight: 3, arbitrary: fc.record({ kind: fc.constant('check') }) },
          {
            weight: operator ? 1 : 0,
            arbitrary: fc.record({ kind: fc.constant<'operatorAbort'>('operatorAbort') }),
          },
        ),
        { maxLength },
      ),
    );

type Log = { participantId: string; action: BusinessAction<JsonValue>['type'] }[];

class World {
  record: TxRecord;
  nowMs = T0;
  bag: Flight[] = [];
  readonly barriers = new Map<string, Barrier<JsonValue>>();
  readonly log: Log = [];
  readonly decisions: Decision[] = [];
  commitDecidedAtMs: number | null = null;
  operatorAborted = false;
  readonly decide: Decide<JsonValue>;

  constructor(readonly votes: readonly ('YES' | 'NO')[]) {
    const started = startTransaction(
      { txId: TX, slot: 0, participants: participants(votes.length) },
      T0,
      config,
    );
    this.record = deepFreeze(started.state);
    this.send(started.effects);
    this.decide = (_operations, { participantId }) =>
      votes[Number(participantId.split('-')[1])] === 'YES'
        ? { ok: true, reservation: { hold: participantId } }
        : { ok: false, reason: 'insufficient funds' };
  }

  run(action: Action): void {
    switch (action.kind) {
      case 'deliver': {
        if (this.bag.length === 0) return;
        const index = action.pick % this.bag.length;
        const flight = this.bag[index]!;
        if (!action.duplicate) this.bag.splice(index, 1);
        this.deliver(flight);
        return;
      }
      case 'drop':
        if (this.bag.length > 0) this.bag.splice(action.pick % this.bag.length, 1);
        return;
      case 'tick':
        this.nowMs += action.ms;
        return;
      case 'check':
        this.coordinator({ type: 'Check', txId: TX });
        return;
      case 'operatorAbort':
        this.coordinator({ type: 'OperatorAbort', txId: TX });
        return;
    }
  }

  /** Faults stop: deliver everything in order, and fire each check when it falls due. */
  drain(): void {
    for (
      let round = 0;
      round < 500 && !(isTerminal(this.record.state) && this.bag.length === 0);
      round += 1
    ) {
      while (this.bag.length > 0) this.deliver(this.bag.shift()!);
      const due = this.record.nextCheckAtMs;
      if (due !== null) {
        this.nowMs = Math.max(this.nowMs, due);
        this.coordinator({ type: 'Check', txId: TX });
      }
    }
  }

  private deliver(flight: Flight): void {
    if (flight.to === 'coordinator') this.coordinator(flight.input);
    else this.participant(flight.message);
  }

  private coordinator(input: CoordinatorInput): void {
    const before = this.record;
    const { state, effects, rejection } = coordinatorStep(before, input, this.nowMs, config);

    // The version moves by exactly one when, and only when, the record changes.
    if (state === before) {
      expect(effects).toEqual([]);
    } else {
      expect(state.version).toBe(before.version + 1);
      expect(JSON.stringify({ ...state, version: 0 })).not.toBe(JSON.stringify({ ...before, version: 0 }));
    }
    // Once made, the decision never changes.
    const was = decisionOf(before.state);
    const now = decisionOf(state.state);
    if (was !== null) expect(now).toBe(was);
    if (was === null && now !== null) {
      this.decisions.push(now);
      if (now === 'COMMIT') this.commitDecidedAtMs = this.nowMs;
    }
    if (input.type === 'OperatorAbort' && rejection === null) this.operatorAborted = true;
    // Decision before effect: Commit/Abort leave only with a durable decision that matches.
    for (const effect of effects) {
      if (effect.type === 'SendCommit') expect(now).toBe('COMMIT');
      if (effect.type === 'SendAbort') expect(now).toBe('ABORT');
    }

    this.record = deepFreeze(state);
    this.send(effects);
  }

  /** The messages of `effects` join the bag (the record they were computed for is durable). */
  private send(effects: readonly CoordinatorEffect[]): void {
    for (const effect of effects) {
      const base = { txId: TX, participantId: 'participantId' in effect ? effect.participantId : '' };
      switch (effect.type) {
        case 'SendPrepare': {
          const operations = this.record.participants.find((p) => p.id === effect.participantId)!.operations;
          this.bag.push({ to: 'participant', message: { type: 'Prepare', ...base, operations } });
          break;
        }
        case 'SendCommit':
          this.bag.push({ to: 'participant', message: { type: 'Commit', ...base } });
          break;
        case 'SendAbort':
          this.bag.push({ to: 'participant', message: { type: 'Abort', ...base } });
          break;
        case 'ScheduleCheck':
        case 'Terminal':
          break; // timers are modelled by the scheduled 'check' actions and the drain
      }
    }
  }

  private participant(message: ParticipantMessage): void {
    const before = this.barriers.get(message.participantId);
    const result = participantStep(before, message, this.nowMs, this.decide);
    if (result.changed) this.barriers.set(message.participantId, deepFreeze(result.barrier));
    if (result.action.type !== 'none')
      this.log.push({ participantId: message.participantId, action: result.action.type });
    this.bag.push({ to: 'coordinator', input: result.reply });
  }
}

const votesArb = fc.array(fc.constantFrom<'YES' | 'NO'>('YES', 'YES', 'YES', 'NO'), {
  minLength: 1,
  maxLength: 4,
});

describe('coordinator properties', () => {
  it('reaches exactly one decision, COMMIT iff all voted YES before any timeout, and terminates in agreement', () => {
    fc.assert(
      fc.property(votesArb, actionsArb(80), (votes, actions) => {
        // Prepare
        const world = new World(votes);

        // Act
        for (const action of actions) world.run(action);
        world.drain();

        // Assess: termination and a single decision
        const { record } = world;
        expect(isTerminal(record.state)).toBe(true);
        expect(world.decisions).toHaveLength(1);
        const decision = world.decisions[0];

        // Validity: COMMIT only if every participant voted YES, before the deadline, unaborted.
        const allYes = votes.every((v) => v === 'YES');
        if (decision === 'COMMIT') {
          expect(allYes).toBe(true);
          expect(world.operatorAborted).toBe(false);
          expect(world.commitDecidedAtMs!).toBeLessThan(record.prepareDeadlineMs);
        } else {
          // An abort always has a cause that really happened.
          const reason = record.reason ?? '';
          if (reason === 'prepare timeout') {
            expect(record.decidedAtMs!).toBeGreaterThanOrEqual(record.prepareDeadlineMs);
          } else if (reason.startsWith('aborted by operator')) {
            expect(world.operatorAborted).toBe(true);
          } else {
            const voter = /^participant (ledger-\d+) voted NO/.exec(reason)?.[1];
            expect(voter).toBeDefined();
            expect(votes[Number(voter!.split('-')[1])]).toBe('NO');
          }
          // ... and so with every vote YES, the abort was a timeout or the operator.
          if (allYes)
            expect(reason === 'prepare timeout' || reason.startsWith('aborted by operator')).toBe(true);
        }

        // Agreement and exactly-once effect at the participants; no hold left behind.
        for (const p of record.participants) {
          const actions = world.log.filter((e) => e.participantId === p.id).map((e) => e.action);
          const barrier = world.barriers.get(p.id);
          if (decision === 'COMMIT') {
            expect(actions).toEqual(['reserve', 'apply']);
            expect(barrier?.state).toBe('COMMITTED');
          } else {
            expect(actions).not.toContain('apply');
            expect(actions.filter((a) => a === 'reserve')).toHaveLength(
              actions.filter((a) => a === 'release').length,
            );
            expect(barrier?.state).toBe('ABORTED');
          }
        }
        expect(record.state).toBe(decision === 'COMMIT' ? 'COMMITTED' : 'ABORTED');
      }),
      { numRuns: 500 },
    );
  });

  it('commits when every participant votes YES and the clock stays before the deadline', () => {
    const deliveryOnly = fc.record({
      kind: fc.constant('deliver' as const),
      pick: fc.nat(),
      duplicate: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(deliveryOnly, { maxLength: 60 }),
        (count, actions) => {
          const world = new World(Array.from({ length: count }, () => 'YES' as const));
          for (const action of actions) world.run(action);
          // Faults stop before the deadline: deliver everything without advancing the clock.
          while (world.bag.length > 0) world.run({ kind: 'deliver', pick: 0, duplicate: false });
          expect(world.record.state).toBe('COMMITTED');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives no second effect for any input delivered twice in a row', () => {
    fc.assert(
      fc.property(votesArb, actionsArb(60), fc.nat(), (votes, actions, pick) => {
        const world = new World(votes);
        for (const action of actions) world.run(action);
        if (world.bag.length === 0) return;
        const flight = world.bag[pick % world.bag.length]!;
        if (flight.to !== 'coordinator') return;
        const once = coordinatorStep(world.record, flight.input, world.nowMs, config);
        const twice = coordinatorStep(once.state, flight.input, world.nowMs, config);
        expect(twice.state).toBe(once.state);
        expect(twice.effects).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

// ─── (b) A participant under arbitrary message sequences ──────────────────────────────────────

const P = 'inventory-0';
const messageArb: fc.Arbitrary<ParticipantMessage> = fc.constantFrom<ParticipantMessage>(
  { type: 'Prepare', txId: TX, participantId: P, operations: [{ sku: 'sku-1', quantity: 2 }] },
  { type: 'Commit', txId: TX, participantId: P },
  { type: 'Abort', txId: TX, participantId: P },
);

/** Runs `messages` until the barrier refuses one (an assertion); returns the business actions. */
function runParticipant(messages: readonly ParticipantMessage[], ok: boolean) {
  const decide: Decide<JsonValue> = () =>
    ok ? { ok: true, reservation: { sku: 'sku-1', quantity: 2 } } : { ok: false, reason: 'out of stock' };
  let barrier: Barrier<JsonValue> | undefined;
  const actions: BusinessAction<JsonValue>['type'][] = [];
  let refused = false;
  for (const [i, message] of messages.entries()) {
    try {
      const result = participantStep(barrier, message, T0 + i, decide);
      expect(result.changed).toBe(result.barrier !== barrier);
      barrier = result.barrier;
      if (result.action.type !== 'none') actions.push(result.action.type);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolAssertionError);
      refused = true;
      break;
    }
  }
  return { actions, barrier, refused };
}

describe('participant properties', () => {
  it('applies at most once, never after a release, never without a prior reserve', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 25 }), fc.boolean(), (messages, ok) => {
        const { actions } = runParticipant(messages, ok);
        const applies = actions.filter((a) => a === 'apply').length;
        expect(applies).toBeLessThanOrEqual(1);
        if (applies === 1) {
          const at = actions.indexOf('apply');
          expect(actions.slice(0, at)).toContain('reserve');
          expect(actions.slice(0, at)).not.toContain('release');
        }
        // A reservation is made at most once and released at most once, never both applied and released.
        expect(actions.filter((a) => a === 'reserve').length).toBeLessThanOrEqual(1);
        expect(actions.filter((a) => a === 'release').length).toBeLessThanOrEqual(1);
        expect(applies + actions.filter((a) => a === 'release').length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never refuses the sequences a correct coordinator can produce, and ends where the decision says', () => {
    // A correct coordinator sends Commit only after this participant's YES was processed, and
    // Abort at any time; Prepares may be duplicated and arrive at any point.
    const scenario = fc
      .record({
        ok: fc.boolean(),
        wantCommit: fc.boolean(),
        prepares: fc.integer({ min: 0, max: 3 }),
        decisions: fc.integer({ min: 1, max: 3 }),
        seed: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
      })
      .map(({ ok, wantCommit, prepares, decisions, seed }) => {
        const commit = ok && wantCommit;
        const prepare: ParticipantMessage = {
          type: 'Prepare',
          txId: TX,
          participantId: P,
          operations: [],
        };
        const decisionMessage: ParticipantMessage = {
          type: commit ? 'Commit' : 'Abort',
          txId: TX,
          participantId: P,
        };
        // A commit needs the first Prepare first; everything else is shuffled by the seed.
        const rest: ParticipantMessage[] = [
          ...Array.from({ length: commit ? prepares : prepares + 1 }, () => prepare),
          ...Array.from({ length: decisions }, () => decisionMessage),
        ];
        for (let i = rest.length - 1; i > 0; i -= 1) {
          const j = (seed[i % seed.length] ?? 0) % (i + 1);
          [rest[i], rest[j]] = [rest[j]!, rest[i]!];
        }
        return { ok, commit, messages: commit ? [prepare, ...rest] : rest };
      });
    fc.assert(
      fc.property(scenario, ({ ok, commit, messages }) => {
        const { actions, barrier, refused } = runParticipant(messages, ok);
        expect(refused).toBe(false);
        expect(barrier?.state).toBe(commit ? 'COMMITTED' : 'ABORTED');
        if (commit) expect(actions).toEqual(['reserve', 'apply']);
        else expect(actions).not.toContain('apply');
        // No hold left behind on abort.
        if (!commit) expect(actions.includes('reserve')).toBe(actions.includes('release'));
      }),
      { numRuns: 500 },
    );
  });
});
