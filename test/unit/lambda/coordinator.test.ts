import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemorySlotStore } from '../../../shared/adapters/memory-slots';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import type { CoordinatorTransport } from '../../../shared/coordinator/shell';
import type { FaultHit } from '../../../shared/faults';
import { readCoordinatorSettings, wireCoordinator } from '../../../shared/lambda/coordinator';
import { NO_FAULT_RUNNER } from '../../../shared/lambda/faults';
import { instruments } from '../../../shared/lambda/middleware';
import { newTransaction, type ParticipantMessage, slotOf } from '../../../shared/protocol';
import { lambdaContext, printedLines, recordingSqs, sqsRecord } from './support';

const TEST_ENV = {
  TRANSACTIONS_TABLE: 'transactions',
  SLOTS_TABLE: 'slots',
  COORDINATOR_QUEUE_URL: 'https://sqs/coordinator.fifo',
  COORDINATOR_DLQ_URL: 'https://sqs/coordinator-dlq.fifo',
  TIMER_QUEUE_URL: 'https://sqs/timers',
  PARTICIPANT_QUEUES: JSON.stringify({ 'ledger-0': 'https://sqs/ledger-0' }),
  SLOT_COUNT: '4',
  PREPARE_TIMEOUT_MS: '10000',
  RESEND_BASE_MS: '1000',
  RESEND_CAP_MS: '8000',
  LEASE_DURATION_MS: '30000',
  LEASE_SKEW_MARGIN_MS: '1000',
};
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:111111111111:coordinator.fifo';

class RecordingTransport implements CoordinatorTransport {
  constructor(
    readonly sent: string[] = [],
    private readonly onDuplicate?: (hit: FaultHit) => void,
  ) {}
  async toParticipant(participant: { id: string }, message: ParticipantMessage): Promise<void> {
    this.sent.push(`${message.type}->${participant.id}`);
    this.onDuplicate?.(`duplicate.${message.type}`);
  }
  async scheduleCheck(): Promise<void> {}
  duplicating(onDuplicate: (hit: FaultHit) => void): RecordingTransport {
    return new RecordingTransport(this.sent, onDuplicate);
  }
}

/** The coordinator's wiring from a test environment, over in-memory stores. */
async function coordinator() {
  const settings = readCoordinatorSettings(TEST_ENV);
  const clock = { nowMs: () => 1_000_000 };
  const slots = new MemorySlotStore();
  const txs = new MemoryTxStore(slots.fenceHolds);
  const transport = new RecordingTransport();
  const dlq = recordingSqs();
  const txId = 'tx-1';
  const participants = [{ id: 'ledger-0', kind: 'ledger', operations: [{ id: 'alice', amount: 5 }] }];
  const record = newTransaction(
    { txId, slot: slotOf(txId, 4), participants },
    clock.nowMs(),
    settings.protocol,
  );
  await txs.create({ record, requestHash: 'h' });
  // As Lambda sets it for an environment started by an invocation: Powertools then tells cold starts.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  const observed = instruments('coordinator');
  observed.logger.setLogLevel('DEBUG');
  const wiring = wireCoordinator(
    settings,
    { clock, txs, slots, transport, faults: NO_FAULT_RUNNER, sqs: dlq.client },
    observed,
  );
  const deliver = (body: unknown, requestId: string) =>
    wiring.handler(
      { Records: [sqsRecord(body, QUEUE_ARN, `slot-${slotOf(txId, 4)}`)] },
      lambdaContext(requestId),
    );
  return { txId, txs, transport, dlq, deliver };
}

describe("the coordinator's wiring", () => {
  afterEach(() => vi.unstubAllEnvs());

  it('drives a transaction from its queue, logging with the Lambda context and flushing its metrics', async () => {
    // Prepare
    const { txId, txs, transport, dlq, deliver } = await coordinator();

    // Act
    let voted: unknown;
    let acked: unknown;
    const lines = await printedLines(async () => {
      voted = await deliver({ type: 'Vote', txId, participantId: 'ledger-0', vote: 'YES' }, 'req-1');
      acked = await deliver({ type: 'Ack', txId, participantId: 'ledger-0', outcome: 'COMMITTED' }, 'req-2');
    });

    // Assess
    expect(voted).toEqual({ batchItemFailures: [] });
    expect(acked).toEqual({ batchItemFailures: [] });
    expect((await txs.load(txId))?.record.state).toBe('COMMITTED');
    expect(transport.sent).toEqual(['Commit->ledger-0']);
    expect(dlq.sent).toEqual([]);
    const logs = lines.filter((line) => typeof line.message === 'string');
    expect(logs.find((l) => l.message === 'input handled')).toMatchObject({
      service: 'coordinator',
      function_request_id: 'req-1',
      cold_start: true,
      function_name: 'tandem-test-fn',
      txId,
    });
    expect(logs.find((l) => l.message === 'transaction terminal')).toMatchObject({
      service: 'coordinator',
      function_request_id: 'req-2',
      cold_start: false,
      state: 'COMMITTED',
    });
    const metrics = lines.filter((line) => '_aws' in line);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({ service: 'coordinator', TransactionsCommitted: 1 });
  });

  it('moves a malformed message to its DLQ without failing the batch', async () => {
    // Prepare
    const { dlq, deliver } = await coordinator();

    // Act
    let response: unknown;
    const lines = await printedLines(async () => {
      response = await deliver({ type: 'Nonsense' }, 'req-1');
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dlq.sent.map((m) => m.QueueUrl)).toEqual([TEST_ENV.COORDINATOR_DLQ_URL]);
    expect(lines.find((l) => '_aws' in l)).toMatchObject({ service: 'coordinator', DlqArrivals: 1 });
  });
});
