import { describe, expect, it } from 'vitest';
import { type CoordinatorTransport, performEffects } from '../../../shared/coordinator/effects';
import {
  type CoordinatorEffect,
  newTransaction,
  ProtocolAssertionError,
  type TxRecord,
} from '../../../shared/protocol';

const config = { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 };
const record = newTransaction(
  {
    txId: 'tx-1',
    slot: 3,
    participants: [
      { id: 'ledger-0', kind: 'ledger', operations: [{ op: 'a' }] },
      { id: 'inventory', kind: 'inventory', operations: [] },
    ],
  },
  0,
  config,
);

function recorder(failing: ReadonlySet<string> = new Set()) {
  const done: string[] = [];
  const transport: CoordinatorTransport = {
    toParticipant: async (participant, message) => {
      if (failing.has(participant.id)) throw new Error(`${participant.id}'s queue is down`);
      done.push(`${message.type}->${participant.id} slot ${message.slot}`);
    },
    scheduleCheck: async (txId, slot, atMs) => void done.push(`Check ${txId} slot ${slot} at ${atMs}`),
  };
  return { done, transport };
}

describe('performEffects', () => {
  it('performs every kind of effect for the record', async () => {
    // Prepare
    const { done, transport } = recorder();
    const terminal: TxRecord[] = [];
    const effects: CoordinatorEffect[] = [
      { type: 'SendPrepare', participantId: 'ledger-0' },
      { type: 'SendCommit', participantId: 'inventory' },
      { type: 'SendAbort', participantId: 'ledger-0' },
      { type: 'ScheduleCheck', atMs: 1_000 },
      { type: 'Terminal', outcome: 'COMMITTED', reason: null },
    ];

    // Act
    await performEffects(effects, record, { transport, onTerminal: (r) => void terminal.push(r) });

    // Assess
    expect(done.sort()).toEqual([
      'Abort->ledger-0 slot 3',
      'Check tx-1 slot 3 at 1000',
      'Commit->inventory slot 3',
      'Prepare->ledger-0 slot 3',
    ]);
    expect(terminal).toEqual([record]);
  });

  it('reports an effect that failed and still performs the others', async () => {
    // Prepare
    const { done, transport } = recorder(new Set(['inventory']));
    const failed: string[] = [];

    // Act
    await performEffects(
      [
        { type: 'SendPrepare', participantId: 'inventory' },
        { type: 'SendPrepare', participantId: 'ledger-0' },
      ],
      record,
      {
        transport,
        onEffectFailed: (effect, r, error) => void failed.push(`${effect.type} ${r.txId} ${error}`),
      },
    );

    // Assess
    expect(done).toEqual(['Prepare->ledger-0 slot 3']);
    expect(failed).toEqual(["SendPrepare tx-1 Error: inventory's queue is down"]);
  });

  it('never ignores an effect it does not know: it is reported as a broken assertion', async () => {
    // Prepare
    const { done, transport } = recorder();
    const errors: unknown[] = [];
    const unknown = { type: 'SendBegin', participantId: 'ledger-0' } as unknown as CoordinatorEffect;

    // Act
    await performEffects([unknown], record, {
      transport,
      onEffectFailed: (_e, _r, error) => errors.push(error),
    });

    // Assess
    expect(done).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolAssertionError);
  });
});
