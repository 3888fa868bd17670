import { describe, expect, it } from 'vitest';
import { main } from '../../../shared/ops/cli';
import { shortNameOfLogicalId } from '../../../shared/ops/dlq';
import { STACK, URL_BASE, type World, world } from './fakes';

// The DLQs of a stack's intakes (an event intake and a FIFO requests queue), as an operator sees
// them: listed under readable names, shown with the reason the intake refused each message, redriven.

const TRANSFERS_URL = `${URL_BASE}/Tandem-test-IntakeTransfersInboxQueue5F1A2B3C-7`;
const TRANSFERS_DLQ_URL = `${URL_BASE}/Tandem-test-IntakeTransfersInboxDlq9D8C7B6A-8`;
const REQUESTS_URL = `${URL_BASE}/Tandem-test-IntakeRequestsInboxQueue0A1B2C3D-9.fifo`;
const REQUESTS_DLQ_URL = `${URL_BASE}/Tandem-test-IntakeRequestsInboxDlq4E5F6A7B-10.fifo`;

function withIntakes(): World {
  const w = world();
  w.queues
    .add(TRANSFERS_URL)
    .add(TRANSFERS_DLQ_URL, { dlqOf: TRANSFERS_URL })
    .add(REQUESTS_URL)
    .add(REQUESTS_DLQ_URL, { dlqOf: REQUESTS_URL });
  w.stack.resourcesByStack[STACK]!.push(
    ...[
      ['IntakeTransfersInboxQueue5F1A2B3C', TRANSFERS_URL],
      ['IntakeTransfersInboxDlq9D8C7B6A', TRANSFERS_DLQ_URL],
      ['IntakeRequestsInboxQueue0A1B2C3D', REQUESTS_URL],
      ['IntakeRequestsInboxDlq4E5F6A7B', REQUESTS_DLQ_URL],
    ].map(([logicalId, physicalId]) => ({
      logicalId: logicalId!,
      physicalId: physicalId!,
      type: 'AWS::SQS::Queue',
    })),
  );
  return w;
}

async function cli(w: World, ...argv: string[]) {
  let stdout = '';
  const code = await main([...argv, '--stack', STACK], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stdout += text) },
    env: { AWS_ENDPOINT_URL: 'http://x' },
    connect: () => w.deps,
  });
  return { code, stdout };
}

const refused = (reason: string, error: string) => ({
  attributes: {
    error: { DataType: 'String', StringValue: error },
    reason: { DataType: 'String', StringValue: reason },
    intake: { DataType: 'String', StringValue: 'queue:requests' },
  },
});

describe("an intake's DLQ", () => {
  it.each([
    ['IntakeTransfersInboxQueue5F1A2B3C', 'intake-transfers'],
    ['IntakeRequestsInboxQueue0A1B2C3D', 'intake-requests'],
    ['TandemIntakeOrdersInboxQueue0A1B2C3D', 'tandem-intake-orders'],
  ])('of %s is named %s', (logicalId, name) => {
    expect(shortNameOfLogicalId(logicalId)).toBe(name);
  });

  it('is listed with the others', async () => {
    // Prepare
    const w = withIntakes();
    w.queues.put(REQUESTS_DLQ_URL, '{}', {
      groupId: 'g',
      ...refused('invalid-request', 'ValidationError: x'),
    });

    // Act
    const list = await cli(w, 'dlq', 'list');

    // Assess
    expect(list.code).toBe(0);
    const rows = list.stdout.split('\n').map((line) => line.split(/ +/).slice(0, 3).join(' '));
    expect(rows).toEqual(
      expect.arrayContaining(['intake-requests 1 0', 'intake-transfers 0 0', 'coordinator 0 0']),
    );
  });

  it('shows each message with the reason and the error it was refused with', async () => {
    const w = withIntakes();
    const body = '{"operations":[{"participant":"ledger","action":"debit","accountId":"nobody","amount":1}]}';
    w.queues.put(REQUESTS_DLQ_URL, body, {
      groupId: 'g',
      ...refused('unprocessable', "UnprocessableError: unknown account 'nobody'; nothing was written"),
    });

    const show = await cli(w, 'dlq', 'show', 'intake-requests');

    expect(show.code).toBe(0);
    expect(show.stdout).toContain('reason     unprocessable');
    expect(show.stdout).toContain(
      "error      UnprocessableError: unknown account 'nobody'; nothing was written",
    );
    expect(show.stdout).toContain(`body       ${body}`);
  });

  it('is redriven to its intake: same body and group, a fresh deduplication id', async () => {
    const w = withIntakes();
    w.queues.put(REQUESTS_DLQ_URL, '{"n":1}', {
      groupId: 'g-1',
      ...refused('unavailable', 'InfrastructureError: x'),
    });
    w.queues.put(TRANSFERS_DLQ_URL, '{"id":"ev-1"}', refused('mapping-failed', 'MappingError: y'));

    const requests = await cli(w, 'dlq', 'redrive', 'intake-requests', '--all');
    const transfers = await cli(w, 'dlq', 'redrive', 'intake-transfers', '--all');

    expect([requests.code, transfers.code]).toEqual([0, 0]);
    expect(requests.stdout).toContain('back to intake-requests');
    expect(w.queues.messages(REQUESTS_URL).map((m) => [m.body, m.groupId])).toEqual([['{"n":1}', 'g-1']]);
    expect(w.queues.messages(REQUESTS_URL)[0]?.deduplicationId).toMatch(/^redrive-/);
    expect(w.queues.bodies(TRANSFERS_URL)).toEqual(['{"id":"ev-1"}']);
    expect([...w.queues.bodies(REQUESTS_DLQ_URL), ...w.queues.bodies(TRANSFERS_DLQ_URL)]).toEqual([]);
  });
});
