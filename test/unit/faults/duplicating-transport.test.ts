import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsTransport } from '../../../shared/adapters/sqs-transport';
import { InfrastructureError } from '../../../shared/errors';
import type { FaultHit } from '../../../shared/faults';

const config = {
  coordinatorQueueUrl: 'http://q/coordinator.fifo',
  timerQueueUrl: 'http://q/timers',
  participantQueues: { 'ledger-0': 'http://q/ledger-0' },
  slotCount: 64,
};
const participant = { id: 'ledger-0', kind: 'ledger', operations: [] };

function recordingSqs(failOnCall?: number) {
  const sent: SendMessageCommand['input'][] = [];
  const sqs = {
    send: async (command: unknown) => {
      if (!(command instanceof SendMessageCommand)) throw new Error('unexpected command');
      sent.push(command.input);
      if (sent.length === failOnCall) throw new Error('SQS is down');
      return {};
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

describe('SqsTransport.duplicating', () => {
  it('sends every message twice and reports each copy by message type', async () => {
    // Prepare
    const { sqs, sent } = recordingSqs();
    const hits: FaultHit[] = [];
    const transport = new SqsTransport(sqs, config, { nowMs: () => 1_000 }).duplicating((h) => hits.push(h));

    // Act
    await transport.toParticipant(participant, { type: 'Commit', txId: 'tx_1', participantId: 'ledger-0' });
    await transport.scheduleCheck('tx_1', 3, 5_000);

    // Assess
    expect(sent.map((m) => [m.QueueUrl, m.MessageBody])).toEqual([
      ['http://q/ledger-0', sent[0]?.MessageBody],
      ['http://q/ledger-0', sent[0]?.MessageBody],
      ['http://q/timers', sent[2]?.MessageBody],
      ['http://q/timers', sent[2]?.MessageBody],
    ]);
    expect(JSON.parse(sent[0]?.MessageBody ?? '')).toMatchObject({ type: 'Commit', txId: 'tx_1' });
    expect(hits).toEqual(['duplicate.Commit', 'duplicate.Timer']);
  });

  it('gives the copy of a FIFO message its own deduplication id, so the queue keeps both', async () => {
    const { sqs, sent } = recordingSqs();
    const hits: FaultHit[] = [];
    const transport = new SqsTransport(sqs, config, { nowMs: () => 1_000 }).duplicating((h) => hits.push(h));

    await transport.forwardCheck('tx_1', 3, 900);
    await transport.reply({ type: 'Vote', txId: 'tx_1', participantId: 'ledger-0', vote: 'YES' });

    expect(sent).toHaveLength(4);
    const [check, checkCopy, vote, voteCopy] = sent;
    expect(check?.MessageGroupId).toBe('slot-3');
    expect(checkCopy?.MessageGroupId).toBe('slot-3');
    expect(checkCopy?.MessageDeduplicationId).toBe(`${check?.MessageDeduplicationId}-dup`);
    expect(voteCopy?.MessageBody).toBe(vote?.MessageBody);
    expect(voteCopy?.MessageDeduplicationId).not.toBe(vote?.MessageDeduplicationId);
    expect(hits).toEqual(['duplicate.Check', 'duplicate.Vote']);
  });

  it('sends once without the decorator', async () => {
    const { sqs, sent } = recordingSqs();

    await new SqsTransport(sqs, config, { nowMs: () => 1_000 }).forwardCheck('tx_1', 3, 900);

    expect(sent).toHaveLength(1);
  });

  it('reports a failed copy as an infrastructure error, not as a sent duplicate', async () => {
    const { sqs } = recordingSqs(2);
    const hits: FaultHit[] = [];
    const transport = new SqsTransport(sqs, config, { nowMs: () => 1_000 }).duplicating((h) => hits.push(h));

    await expect(
      transport.toParticipant(participant, { type: 'Abort', txId: 'tx_1', participantId: 'ledger-0' }),
    ).rejects.toBeInstanceOf(InfrastructureError);
    expect(hits).toEqual([]);
  });
});
