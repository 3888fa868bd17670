import { describe, expect, it } from 'vitest';
import { discoverDlqs, peekDlq, pickDlq, redriveDlq, shortNameOfLogicalId } from '../../../shared/ops/dlq';
import { UsageError } from '../../../shared/ops/errors';
import { stackNamesOf } from '../../../shared/ops/target';
import {
  COORDINATOR_DLQ_URL,
  COORDINATOR_URL,
  FakeStack,
  LEDGER0_DLQ_URL,
  LEDGER0_URL,
  STACK,
  TIMERS_DLQ_URL,
  TIMERS_URL,
  world,
} from './fakes';

async function dlqsOf(w: ReturnType<typeof world>) {
  const stack = new FakeStack();
  const names = stackNamesOf(STACK, await stack.outputs(STACK));
  return discoverDlqs(names, await stack.resources(STACK), w.queues);
}

const error = (text: string) => ({ error: { DataType: 'String', StringValue: text } });

describe('finding the DLQs', () => {
  it.each([
    ['CoordinatorTimersQueueE4D29673', 'timers'],
    ['CoordinatorInboxQueueFD6BBFEA', 'coordinator'],
    ['Ledger0InboxQueue3070A92C', 'ledger0'],
    ['InventoryInboxQueue2CB31035', 'inventory'],
    ['AuditTrailQueue', 'audit-trail'],
  ])('names %s %s', (logicalId, name) => {
    expect(shortNameOfLogicalId(logicalId)).toBe(name);
  });

  it('pairs every source queue with its DLQ, named from the outputs or the logical id', async () => {
    // Act
    const dlqs = await dlqsOf(world());

    // Assess
    expect(dlqs.map((d) => [d.name, d.sourceUrl, d.dlqUrl, d.fifo])).toEqual([
      ['coordinator', COORDINATOR_URL, COORDINATOR_DLQ_URL, true],
      ['timers', TIMERS_URL, TIMERS_DLQ_URL, false],
      ['ledger-0', LEDGER0_URL, LEDGER0_DLQ_URL, false],
    ]);
  });

  it('falls back to the outputs and GetQueueUrl when the stack lists no resources', async () => {
    const w = world();
    const names = stackNamesOf(STACK, await new FakeStack().outputs(STACK));

    const dlqs = await discoverDlqs(names, [], w.queues);

    expect(dlqs.map((d) => [d.name, d.dlqUrl])).toEqual([
      ['coordinator', COORDINATOR_DLQ_URL],
      ['ledger-0', LEDGER0_DLQ_URL],
    ]);
    expect(w.queues.calls).toContain(`urlOfArn ${w.queues.arnOf(COORDINATOR_DLQ_URL)}`);
  });

  it('refuses an unknown short name, listing the known ones', async () => {
    const dlqs = await dlqsOf(world());
    expect(() => pickDlq(dlqs, 'ledger-9', 'dlq show')).toThrow(UsageError);
    expect(() => pickDlq(dlqs, 'ledger-9', 'dlq show')).toThrow(
      "no queue 'ledger-9' in this stack; its queues with a DLQ: coordinator, timers, ledger-0",
    );
    expect(pickDlq(dlqs, LEDGER0_URL, 'dlq show').name).toBe('ledger-0');
  });
});

describe('peeking', () => {
  it('shows body, error and earlier receives, and leaves every message visible', async () => {
    // Prepare
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq show');
    for (let i = 0; i < 12; i++)
      w.queues.put(LEDGER0_DLQ_URL, `{"n":${i}}`, { attributes: error(`bad ${i}`) });

    // Act
    const peeked = await peekDlq(dlq, w.queues, 11);

    // Assess
    expect(peeked).toHaveLength(11);
    expect(peeked[0]).toMatchObject({ body: '{"n":0}', error: 'bad 0', receiveCount: 0 });
    expect(w.queues.messages(LEDGER0_DLQ_URL).every((m) => m.visibleAtMs === 0)).toBe(true);
    expect(w.queues.messages(LEDGER0_DLQ_URL)).toHaveLength(12);
    expect((await peekDlq(dlq, w.queues, 1))[0]).toMatchObject({ receiveCount: 1 });
  });
});

describe('redrive by receive/re-send/delete (no StartMessageMoveTask)', () => {
  it('moves at most --max messages, in order, with their attributes', async () => {
    // Prepare
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');
    for (let i = 0; i < 25; i++) w.queues.put(LEDGER0_DLQ_URL, `m${i}`, { attributes: error('x') });

    // Act
    const result = await redriveDlq(dlq, w.queues, w.clock, { all: false, max: 12, waitMs: 0 });

    // Assess
    expect(result).toEqual({ method: 'receive-resend', moved: 12, failed: 0 });
    expect(w.queues.bodies(LEDGER0_URL)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
    expect(w.queues.messages(LEDGER0_URL)[0]?.attributes).toEqual(error('x'));
    expect(w.queues.bodies(LEDGER0_DLQ_URL)).toHaveLength(13);
    expect(w.queues.calls.filter((c) => c.startsWith('startMoveTask'))).toEqual([]);
  });

  it('with --all falls back when the endpoint lacks the move task, keeping FIFO groups and fresh dedup ids', async () => {
    // Prepare
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'coordinator', 'dlq redrive');
    const sent = ['slot-1', 'slot-2', 'slot-1', 'slot-1'].map((groupId, i) => ({
      groupId,
      body: `{"n":${i}}`,
    }));
    for (const m of sent) w.queues.put(COORDINATOR_DLQ_URL, m.body, { groupId: m.groupId });

    // Act
    const result = await redriveDlq(dlq, w.queues, w.clock, { all: true, max: 10, waitMs: 0 });

    // Assess
    expect(result).toMatchObject({
      method: 'receive-resend',
      moved: 4,
      failed: 0,
      note: expect.stringContaining('no StartMessageMoveTask'),
    });
    const moved = w.queues.messages(COORDINATOR_URL);
    expect(moved.map((m) => [m.groupId, m.body])).toEqual(sent.map((m) => [m.groupId, m.body]));
    expect(new Set(moved.map((m) => m.deduplicationId)).size).toBe(4);
    expect(moved.every((m) => m.deduplicationId?.startsWith('redrive-'))).toBe(true);
    expect(w.queues.messages(COORDINATOR_DLQ_URL)).toEqual([]);
  });

  it('with --all moves as many as the DLQ held at the start, so poison that bounces back is moved once', async () => {
    // Prepare: the ledger-0 consumer dead-letters everything at once.
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');
    for (let i = 0; i < 3; i++) w.queues.put(LEDGER0_DLQ_URL, `poison ${i}`);
    w.queues.bounceTo.set(LEDGER0_URL, LEDGER0_DLQ_URL);

    // Act
    const result = await redriveDlq(dlq, w.queues, w.clock, { all: true, max: 10, waitMs: 0 });

    // Assess
    expect(result.moved).toBe(3);
    expect(w.queues.bodies(LEDGER0_DLQ_URL).sort()).toEqual(['poison 0', 'poison 1', 'poison 2']);
  });

  it('leaves what the source refuses in the DLQ, visible, and counts it', async () => {
    // Prepare
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');
    for (let i = 0; i < 3; i++) w.queues.put(LEDGER0_DLQ_URL, `m${i}`);
    w.queues.failNextSend.set(LEDGER0_URL, ['1']);

    // Act
    const result = await redriveDlq(dlq, w.queues, w.clock, { all: false, max: 10, waitMs: 0 });

    // Assess
    expect(result).toEqual({ method: 'receive-resend', moved: 2, failed: 1 });
    expect(w.queues.bodies(LEDGER0_URL)).toEqual(['m0', 'm2']);
    expect(w.queues.messages(LEDGER0_DLQ_URL)).toMatchObject([{ body: 'm1', visibleAtMs: 0 }]);
  });

  it('with a selection moves only the messages it accepts and leaves the others visible in the DLQ', async () => {
    // Prepare: the FIFO coordinator DLQ, where a move task could not choose.
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'coordinator', 'dlq redrive');
    for (let i = 0; i < 14; i++)
      w.queues.put(COORDINATOR_DLQ_URL, `{"n":${i}}`, { groupId: `slot-${i % 2}` });

    // Act
    const result = await redriveDlq(dlq, w.queues, w.clock, {
      all: true,
      max: 0,
      waitMs: 0,
      select: (m) => m.groupId === 'slot-1',
    });

    // Assess
    expect(result).toEqual({ method: 'receive-resend', moved: 7, failed: 0, skipped: 7 });
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([1, 3, 5, 7, 9, 11, 13].map((n) => `{"n":${n}}`));
    expect(w.queues.messages(COORDINATOR_DLQ_URL).map((m) => [m.groupId, m.visibleAtMs])).toEqual(
      Array.from({ length: 7 }, () => ['slot-0', 0]),
    );
    expect(w.queues.calls.filter((c) => c.startsWith('startMoveTask'))).toEqual([]);
  });

  it('with a selection and --max looks at no more than --max messages', async () => {
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');
    for (let i = 0; i < 10; i++) w.queues.put(LEDGER0_DLQ_URL, `m${i}`);

    const result = await redriveDlq(dlq, w.queues, w.clock, {
      all: false,
      max: 4,
      waitMs: 0,
      select: (m) => m.body !== 'm1',
    });

    expect(result).toEqual({ method: 'receive-resend', moved: 3, failed: 0, skipped: 1 });
    expect(w.queues.bodies(LEDGER0_URL)).toEqual(['m0', 'm2', 'm3']);
  });

  it('moves nothing from an empty DLQ', async () => {
    const w = world();
    const dlq = pickDlq(await dlqsOf(w), 'timers', 'dlq redrive');
    expect(await redriveDlq(dlq, w.queues, w.clock, { all: true, max: 10, waitMs: 0 })).toMatchObject({
      moved: 0,
    });
  });
});

describe('redrive with a message move task (AWS)', () => {
  it('starts the task to the source queue explicitly and reports what it moved', async () => {
    // Prepare
    const w = world();
    w.queues.moveTask = 'moves-all';
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');
    for (let i = 0; i < 3; i++) w.queues.put(LEDGER0_DLQ_URL, `m${i}`);

    // Act
    const result = await redriveDlq(dlq, w.queues, w.clock, { all: true, max: 10, waitMs: 60_000 });

    // Assess
    expect(result).toEqual({ method: 'move-task', moved: 3, failed: 0, status: 'COMPLETED' });
    expect(w.queues.calls).toContain(
      `startMoveTask ${w.queues.arnOf(LEDGER0_DLQ_URL)} ${w.queues.arnOf(LEDGER0_URL)}`,
    );
    expect(w.queues.bodies(LEDGER0_URL)).toEqual(['m0', 'm1', 'm2']);
  });

  it('returns with a note when the task is still running at the end of --wait', async () => {
    const w = world();
    w.queues.moveTask = 'moves-all';
    w.queues.moveTaskStatus = async () => ({
      status: 'RUNNING',
      moved: 5,
      toMove: 50,
      failureReason: undefined,
    });
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');

    const result = await redriveDlq(dlq, w.queues, w.clock, { all: true, max: 10, waitMs: 3_000 });

    expect(result).toMatchObject({
      method: 'move-task',
      moved: 5,
      status: 'RUNNING',
      note: expect.stringContaining('still RUNNING after 3.0s'),
    });
  });

  it('fails with the reason of a failed task', async () => {
    const w = world();
    w.queues.moveTask = 'moves-all';
    w.queues.moveTaskStatus = async () => ({
      status: 'FAILED',
      moved: 1,
      toMove: 5,
      failureReason: 'AccessDenied',
    });
    const dlq = pickDlq(await dlqsOf(w), 'ledger-0', 'dlq redrive');

    await expect(redriveDlq(dlq, w.queues, w.clock, { all: true, max: 10, waitMs: 3_000 })).rejects.toThrow(
      'the message move task failed after moving 1: AccessDenied',
    );
  });
});
