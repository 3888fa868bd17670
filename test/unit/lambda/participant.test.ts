import { describe, expect, it } from 'vitest';
import { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { newEntity } from '../../../shared/entities';
import type { FaultHit } from '../../../shared/faults';
import { type FaultRunner, NO_FAULT_RUNNER } from '../../../shared/lambda/faults';
import { instruments } from '../../../shared/lambda/middleware';
import { type ReplyTransport, wireParticipant } from '../../../shared/participant/handler';
import type { ParticipantReply } from '../../../shared/protocol';
import { LEDGER } from '../../support/entity-shaped';
import { lambdaContext, printedLines, recordingSqs, sqsRecord } from './support';

const TEST_ENV = {
  PARTICIPANT_ID: 'ledger-0',
  PARTICIPANT_KIND: 'ledger',
  PARTICIPANT_DLQ_URL: 'https://sqs/ledger-0-dlq',
  MAX_RECEIVE_COUNT: '5',
};
const INBOX_ARN = 'arn:aws:sqs:us-east-1:111111111111:ledger-0';
const txId = 'tx-1';

class RecordingReplies implements ReplyTransport {
  constructor(
    readonly sent: ParticipantReply[] = [],
    private readonly onDuplicate?: (hit: FaultHit) => void,
  ) {}
  async reply(reply: ParticipantReply): Promise<void> {
    this.sent.push(reply);
    this.onDuplicate?.(`duplicate.${reply.type}`);
  }
  duplicating(onDuplicate: (hit: FaultHit) => void): RecordingReplies {
    return new RecordingReplies(this.sent, onDuplicate);
  }
}

/** The participant's wiring from a test environment, over an in-memory store holding alice's 100. */
function ledger(faults: FaultRunner = NO_FAULT_RUNNER) {
  const store = new MemoryParticipantStore(LEDGER.definition.counter!, [newEntity('alice', 100, 0)]);
  const transport = new RecordingReplies();
  const dlq = recordingSqs();
  const wiring = wireParticipant(
    LEDGER.definition,
    TEST_ENV,
    { clock: { nowMs: () => 1_000_000 }, store, transport, faults, sqs: dlq.client },
    instruments('ledger-0'),
  );
  const prepare = {
    type: 'Prepare',
    txId,
    participantId: 'ledger-0',
    operations: [{ id: 'alice', action: 'take', amount: 10 }],
  };
  const deliver = (body: unknown = prepare) =>
    wiring.handler({ Records: [sqsRecord(body, INBOX_ARN)] }, lambdaContext('req-1'));
  return { store, transport, dlq, deliver };
}

describe("a participant's wiring", () => {
  it('holds the amount a Prepare takes and votes YES', async () => {
    // Prepare
    const { store, transport, dlq, deliver } = ledger();

    // Act
    const response = await deliver();

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(transport.sent).toEqual([{ type: 'Vote', txId, participantId: 'ledger-0', vote: 'YES' }]);
    expect(store.entity('alice')).toMatchObject({ total: 100, held: 10, available: 90 });
    expect(dlq.sent).toEqual([]);
  });

  it('replies through the duplicating sender when the fault plan asks for duplicates', async () => {
    // Prepare
    const hits: FaultHit[] = [];
    const duplicating: FaultRunner = {
      run: (_txId, _receiveCount, work) =>
        work({ crashPoint: () => {}, drop: () => false, duplicate: true }, (hit) => void hits.push(hit), {
          storeAt: (_point, plain) => plain,
        }),
    };
    const { transport, deliver } = ledger(duplicating);

    // Act
    await deliver();

    // Assess
    expect(transport.sent.map((reply) => reply.type)).toEqual(['Vote']);
    expect(hits).toEqual(['duplicate.Vote']);
  });

  it("sends a message for another participant to its DLQ, logged under the function's service name", async () => {
    // Prepare
    const { dlq, deliver } = ledger();

    // Act
    let response: unknown;
    const lines = await printedLines(async () => {
      response = await deliver({ type: 'Commit', txId, participantId: 'ledger-1' });
    });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dlq.sent.map((m) => m.QueueUrl)).toEqual([TEST_ENV.PARTICIPANT_DLQ_URL]);
    expect(lines.find((l) => l.level === 'ERROR')).toMatchObject({
      service: 'ledger-0',
      function_request_id: 'req-1',
      message: 'poison message; message moved to the DLQ',
    });
    expect(lines.find((l) => '_aws' in l)).toMatchObject({ service: 'ledger-0', DlqArrivals: 1 });
  });
});
