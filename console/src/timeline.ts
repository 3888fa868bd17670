/**
 * A transaction's timeline entries (the coordinator's own words: `vote NO from ledger-1: …`,
 * `decision COMMIT (slot 3, epoch 17)`, `re-sent Prepare to ledger-1 (round 2)`) sorted into the
 * lanes and kinds the timeline chart draws. Pure: the page and the unit tests use it alike.
 */

export type StepKind = 'step' | 'vote-yes' | 'vote-no' | 'decision' | 'ack' | 'retry';

export interface TimelinePoint {
  /** Seconds since the transaction was created. */
  readonly t: number;
  readonly atMs: number;
  /** `coordinator`, or the participant the entry is about. */
  readonly lane: string;
  /** The lane's index in `lanes` (the chart's y). */
  readonly row: number;
  readonly kind: StepKind;
  readonly event: string;
}

const COORDINATOR_LANE = 'coordinator';

export const KIND_LABELS: Readonly<Record<StepKind, string>> = {
  step: 'created / Prepare sent',
  'vote-yes': 'vote YES',
  'vote-no': 'vote NO',
  decision: 'decision',
  ack: 'ack',
  retry: 'retry / recovery',
};

const FROM = /^(vote|ack) (\S+) from (\S+?)(?::|$)/;

function classify(event: string): { lane: string | null; kind: StepKind } {
  const from = FROM.exec(event);
  if (from) {
    const [, what, value, participant] = from;
    if (what === 'ack') return { lane: participant ?? null, kind: 'ack' };
    return { lane: participant ?? null, kind: value === 'NO' ? 'vote-no' : 'vote-yes' };
  }
  if (event.startsWith('decision ') || event.includes(' in one phase'))
    return { lane: null, kind: 'decision' };
  if (event.startsWith('re-sent ') || event.includes('(by check)')) return { lane: null, kind: 'retry' };
  return { lane: null, kind: 'step' };
}

/** The chart's points, and its lanes: the coordinator first, then the participants in order. */
export function timelineOf(
  createdAtMs: number,
  participants: readonly string[],
  entries: ReadonlyArray<{ readonly atMs: number; readonly event: string }>,
): { lanes: string[]; points: TimelinePoint[] } {
  const lanes = [COORDINATOR_LANE, ...participants];
  const points = entries.map((entry): TimelinePoint => {
    const { lane, kind } = classify(entry.event);
    const row = lane === null ? 0 : Math.max(0, lanes.indexOf(lane));
    return {
      t: (entry.atMs - createdAtMs) / 1000,
      atMs: entry.atMs,
      lane: lanes[row] ?? COORDINATOR_LANE,
      row,
      kind,
      event: entry.event,
    };
  });
  return { lanes, points };
}
