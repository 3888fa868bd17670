import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { sendToDeadLetterQueue } from '../../../shared/adapters/sqs-dlq';
import { ConfigurationError } from '../../../shared/errors';
import { readIntakeSettings } from '../../../shared/intake/handler';
import { eventIntakeHandler } from '../../../shared/intake/sdk';
import { recordingSqs } from '../lambda/support';

const record = (init: Partial<SQSRecord['attributes']> = {}) =>
  ({
    messageId: 'm-1',
    body: '{"operations":[]}',
    attributes: { ApproximateReceiveCount: '1', ...init },
  }) as SQSRecord;

describe("an intake's DLQ message", () => {
  it('keeps the body as it came (a redrive feeds it to the intake again) and attaches the error and reason', async () => {
    // Prepare
    const { client, sent } = recordingSqs();

    // Act
    await sendToDeadLetterQueue(client, 'https://sqs/q-dlq', record(), new Error('x'.repeat(2000)), {
      reason: 'invalid-request',
      intake: 'queue:requests',
    });

    // Assess
    expect(sent).toEqual([
      {
        QueueUrl: 'https://sqs/q-dlq',
        MessageBody: '{"operations":[]}',
        MessageAttributes: {
          error: { DataType: 'String', StringValue: `Error: ${'x'.repeat(993)}` },
          sourceMessageId: { DataType: 'String', StringValue: 'm-1' },
          reason: { DataType: 'String', StringValue: 'invalid-request' },
          intake: { DataType: 'String', StringValue: 'queue:requests' },
        },
      },
    ]);
  });

  it("of a FIFO requests queue keeps the message's group", async () => {
    const { client, sent } = recordingSqs();
    await sendToDeadLetterQueue(
      client,
      'https://sqs/q-dlq.fifo',
      record({ MessageGroupId: 'g-1' }),
      new Error('e'),
    );
    expect(sent[0]).toMatchObject({ MessageGroupId: 'g-1', MessageDeduplicationId: 'm-1' });
  });
});

describe("an intake function's settings", () => {
  it('are read from the environment the construct sets', () => {
    expect(readIntakeSettings({ INTAKE_ID: 'orders', INTAKE_KIND: 'events' })).toEqual({
      id: 'orders',
      kind: 'events',
    });
    expect(
      readIntakeSettings({ INTAKE_ID: 'requests', INTAKE_KIND: 'queue', INTAKE_KEY_FIELD: 'ref' }),
    ).toEqual({ id: 'requests', kind: 'queue', keyField: 'ref' });
  });

  it.each([
    [{ INTAKE_KIND: 'events' }, /INTAKE_ID/],
    [{ INTAKE_ID: 'orders' }, /INTAKE_KIND/],
    [{ INTAKE_ID: 'orders', INTAKE_KIND: 'kafka' }, "INTAKE_KIND must be 'events' or 'queue', got 'kafka'"],
    [{ INTAKE_ID: 'orders', INTAKE_KIND: 'queue', INTAKE_KEY_FIELD: 'a..b' }, 'is not a dotted field path'],
  ])('fail at cold start when wrong: %j', (env, message) => {
    expect(() => readIntakeSettings(env)).toThrow(ConfigurationError);
    expect(() => readIntakeSettings(env)).toThrow(message);
  });

  it('needs nothing to be imported: eventIntakeHandler reads its environment on the first invocation', () => {
    expect(
      typeof eventIntakeHandler((event) => ({ operations: [{ participant: 'ledger', id: event.id }] })),
    ).toBe('function');
  });
});
