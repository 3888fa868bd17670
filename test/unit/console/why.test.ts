import { describe, expect, it } from 'vitest';
import { whyNotFinished } from '../../../shared/console/why';
import { ackOf, T0, tx, vote } from '../ops/fakes';

const S = 1_000;

describe('whyNotFinished', () => {
  it('names the one vote still missing, since when, and the next check', () => {
    // Prepare: created at T0 (Prepare sent, next check 5 s later); ledger-0 votes YES at 2 s.
    const record = tx('t-vote', T0, [vote('ledger-0', 'YES', T0 + 2 * S)]);
    const nowMs = record.nextCheckAtMs! - 3 * S;
    // Act
    const why = whyNotFinished(record, nowMs);
    // Assess
    expect(why).toMatch(/^waiting for ledger-1's vote since \d+(\.\d)?s; /);
    expect(why).toContain('next check in 3.0s');
    expect(why).toContain('aborts at the prepare deadline in');
  });

  it('lists several missing votes and says when the deadline has passed', () => {
    const record = tx('t-late', T0);
    const why = whyNotFinished(record, T0 + 40 * S);
    expect(why).toContain('waiting for the votes of ledger-0 and ledger-1 since 40s');
    expect(why).toContain('the prepare deadline passed 10s ago: the next check decides ABORT');
    expect(why).toMatch(/next check overdue \d+s \(a lost timer\? retry enqueues a check\)$/);
  });

  it('after the decision, names the decision and the missing acks', () => {
    const record = tx('t-acks', T0, [
      vote('ledger-0', 'YES', T0 + S),
      vote('ledger-1', 'YES', T0 + S),
      ackOf('ledger-0', 'COMMITTED', T0 + 2 * S),
    ]);
    const why = whyNotFinished(record, T0 + 5 * S);
    expect(why).toMatch(/^decided COMMIT 4\.0s ago; waiting for ledger-1's ack since 4\.0s; /);
  });

  it('is null for a finished transaction, also when only the acks say so', () => {
    const aborted = tx('t-no', T0, [vote('ledger-0', 'NO', T0 + S)]);
    const acked = tx('t-acked', T0, [
      vote('ledger-0', 'NO', T0 + S),
      ackOf('ledger-0', 'ABORTED', T0 + 2 * S),
      ackOf('ledger-1', 'ABORTED', T0 + 2 * S),
    ]);
    expect(whyNotFinished(aborted, T0 + 3 * S)).toMatch(/^decided ABORT/);
    expect(whyNotFinished(acked, T0 + 3 * S)).toBeNull();
  });
});
