/**
 * Where a two-phase transfer's time goes, from the answer the client got: the record's own times
 * (created, each vote noted, decided, completed) between the client's send and receive. On the
 * local emulator every Lambda and the bench share one clock, so the steps add up to the latency.
 */
import { summarize } from './stats';
import { type LatencySummary, PHASES, type Phase } from './types';

export const PHASE_MEANING: Readonly<Record<Phase, string>> = {
  entry: 'request sent → record created (HTTP in, the API’s write)',
  prepare: 'record created → last vote noted (Prepare hop, participants’ writes)',
  decide: 'last vote noted → decision (Vote hop, the coordinator’s write)',
  apply: 'decision → last ack noted (Commit hop, participants’ writes)',
  answer: 'last ack noted → answer received (the API’s next re-read, HTTP out)',
};

/** The parts of a transaction view this reads (`GET /transactions/{id}`, or a waited POST). */
export interface TimedView {
  readonly createdAtMs: number;
  readonly decidedAtMs?: number;
  readonly completedAtMs?: number;
  readonly timeline: ReadonlyArray<{ readonly atMs: number; readonly event: string }>;
}

/**
 * The steps of one finished two-phase transfer, ms; null when the view lacks a time it needs (not
 * decided, not completed, or its votes trimmed from the timeline).
 */
export function phasesOf(
  view: TimedView,
  sentAtMs: number,
  receivedAtMs: number,
): Readonly<Record<Phase, number>> | null {
  const votes = view.timeline.filter((entry) => entry.event.startsWith('vote ')).map((entry) => entry.atMs);
  if (votes.length === 0 || view.decidedAtMs === undefined || view.completedAtMs === undefined) return null;
  const lastVote = Math.max(...votes);
  return {
    entry: view.createdAtMs - sentAtMs,
    prepare: lastVote - view.createdAtMs,
    decide: view.decidedAtMs - lastVote,
    apply: view.completedAtMs - view.decidedAtMs,
    answer: receivedAtMs - view.completedAtMs,
  };
}

/** Each step's distribution over many transfers (those without a full set of times left out). */
export function summarizePhases(
  samples: ReadonlyArray<Readonly<Record<Phase, number>> | null>,
): Readonly<Record<Phase, LatencySummary>> {
  const complete = samples.filter((s): s is Readonly<Record<Phase, number>> => s !== null);
  return Object.fromEntries(
    PHASES.map((phase) => [phase, summarize(complete.map((s) => s[phase]))]),
  ) as Record<Phase, LatencySummary>;
}
