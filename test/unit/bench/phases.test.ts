import { describe, expect, it } from 'vitest';
import { phasesOf, summarizePhases } from '../../../dev/bench/phases';

const view = {
  createdAtMs: 1_000,
  decidedAtMs: 1_090,
  completedAtMs: 1_150,
  timeline: [
    { atMs: 1_000, event: 'created' },
    { atMs: 1_000, event: 'begin: Prepare sent to 2 participant(s)' },
    { atMs: 1_030, event: 'vote YES from ledger-0' },
    { atMs: 1_035, event: 'vote YES from ledger-1' },
    { atMs: 1_090, event: 'decision COMMIT' },
    { atMs: 1_140, event: 'ack COMMITTED from ledger-0' },
    { atMs: 1_150, event: 'ack COMMITTED from ledger-1' },
  ],
};

describe('phasesOf', () => {
  it('splits a transfer’s latency into its steps, which add up to it', () => {
    const steps = phasesOf(view, 995, 1_170);
    // The last vote (1_035) ends the prepare step, whichever participant noted it.
    expect(steps).toEqual({ entry: 5, prepare: 35, decide: 55, apply: 60, answer: 20 });
    expect(Object.values(steps ?? {}).reduce((a, b) => a + b, 0)).toBe(1_170 - 995);
  });

  it('gives null for a view without a decision, a completion or votes', () => {
    const { decidedAtMs: _decided, ...undecided } = view;
    const { completedAtMs: _completed, ...uncompleted } = view;
    expect(phasesOf(undecided, 995, 1_170)).toBeNull();
    expect(phasesOf(uncompleted, 995, 1_170)).toBeNull();
    expect(
      phasesOf({ ...view, timeline: view.timeline.filter((e) => !e.event.startsWith('vote')) }, 0, 0),
    ).toBeNull();
  });
});

describe('summarizePhases', () => {
  it('summarizes each step over the transfers that had every time, leaving the others out', () => {
    const summary = summarizePhases([
      phasesOf(view, 995, 1_170),
      null,
      phasesOf({ ...view, decidedAtMs: 1_045 }, 990, 1_160),
    ]);
    expect(summary.entry).toMatchObject({ count: 2, p50: 5, max: 10 });
    expect(summary.decide).toMatchObject({ count: 2, p50: 10, max: 55 });
    expect(summary.apply).toMatchObject({ p50: 60, max: 105 });
  });
});
