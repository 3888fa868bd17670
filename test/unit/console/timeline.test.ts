import { describe, expect, it } from 'vitest';
import { timelineOf } from '../../../console/src/timeline';

describe("the console's timeline lanes", () => {
  it('puts votes and acks on their participant, the rest on the coordinator, each with its kind', () => {
    const { lanes, points } = timelineOf(
      1_000,
      ['ledger-0', 'ledger-1'],
      [
        { atMs: 1_000, event: 'created' },
        { atMs: 1_010, event: 'begin: Prepare sent to 2 participant(s)' },
        { atMs: 1_050, event: 'vote YES from ledger-0' },
        { atMs: 1_060, event: 'vote NO from ledger-1: insufficient funds: 3 < 500' },
        { atMs: 1_070, event: 'decision ABORT: participant ledger-1 voted NO (slot 3, epoch 7)' },
        { atMs: 2_500, event: 're-sent Abort to ledger-0 (round 1)' },
        { atMs: 2_600, event: 'ack ABORTED from ledger-0' },
        { atMs: 2_700, event: 'ack ABORTED from ledger-9' },
        { atMs: 2_800, event: 'begin (by check): Prepare sent to 2 participant(s)' },
      ],
    );
    expect(lanes).toEqual(['coordinator', 'ledger-0', 'ledger-1']);
    expect(points.map((p) => p.row)).toEqual([0, 0, 1, 2, 0, 0, 1, 0, 0]);
    expect(points.map((p) => [p.t, p.lane, p.kind])).toEqual([
      [0, 'coordinator', 'step'],
      [0.01, 'coordinator', 'step'],
      [0.05, 'ledger-0', 'vote-yes'],
      [0.06, 'ledger-1', 'vote-no'],
      [0.07, 'coordinator', 'decision'],
      [1.5, 'coordinator', 'retry'],
      [1.6, 'ledger-0', 'ack'],
      // a participant the record does not list stays on the coordinator's lane
      [1.7, 'coordinator', 'ack'],
      [1.8, 'coordinator', 'retry'],
    ]);
  });

  it('draws a one-phase outcome as the decision', () => {
    const { points } = timelineOf(0, ['ledger-2'], [{ atMs: 4, event: 'aborted in one phase: conflict' }]);
    expect(points[0]).toMatchObject({ lane: 'coordinator', kind: 'decision', t: 0.004 });
  });
});
