import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ChaosStack } from '../../dev/chaos/stack';
import { awsDeps } from '../../shared/ops/aws';
import { peekDlq, pickDlq, stackDlqs } from '../../shared/ops/dlq';
import type { QueueService } from '../../shared/ops/ports';
import { stackNamesOf } from '../../shared/ops/target';

// The chaos run's redrive is the operator tools' (shared/ops/dlq.ts) with a selection: on the
// emulator's FIFO coordinator DLQ, a message of the run behind another workload's in one group is
// moved, and the other workload's stays where it was.
describe('chaos: redriving the dead letters of a run', () => {
  it('moves the run’s messages back to their source and leaves other workloads’ in the DLQ', async () => {
    // Prepare: in one message group, another workload's dead letter first, then the run's.
    const deployment = inject('deployment');
    const ops = awsDeps({ stackName: deployment.stackName, endpoint: deployment.endpoint }, {});
    const names = stackNamesOf(deployment.stackName, deployment.outputs);
    const coordinator = pickDlq(await stackDlqs(names, ops.stack, ops.queues), 'coordinator', 'test');
    const run = randomUUID().slice(0, 8);
    const [foreign, ours] = [`tx_foreign${run}`, `tx_ours${run}`];
    for (const txId of [foreign, ours]) {
      await ops.queues.send(coordinator.dlqUrl, {
        body: JSON.stringify({ txId, type: 'chaos-redrive-test' }),
        groupId: `chaos-redrive-${run}`,
        deduplicationId: txId,
      });
    }

    // Act
    const summary = await new ChaosStack(deployment).redriveDeadLetters(new Set([ours]));

    // Assess
    expect(summary).toMatchObject({ found: 1, redriven: 1 });
    // Other workloads' messages: this test's, and any earlier test files left in the shared stack.
    expect(summary.foreign).toBeGreaterThanOrEqual(1);
    expect(summary.errors).toEqual([expect.stringContaining(ours)]);
    // The run's message may be back already: the coordinator dead-letters a body it cannot read.
    const left = (await peekDlq(coordinator, ops.queues, 10)).map((m) => m.body);
    expect(left).toContain(JSON.stringify({ txId: foreign, type: 'chaos-redrive-test' }));
    await deleteMessagesOf(run, coordinator.dlqUrl, ops.queues);
  });
});

/** Deletes this test's messages from the DLQ (the run's own once it is back), for the files after it. */
async function deleteMessagesOf(run: string, dlqUrl: string, queues: QueueService): Promise<void> {
  let deleted = 0;
  for (let round = 0; round < 10 && deleted < 2; round++) {
    const received = await queues.receive(dlqUrl, { max: 10, visibilityTimeoutS: 30, waitS: 1 });
    const ofRun = received.filter((m) => m.body.includes(run));
    const others = received.filter((m) => !m.body.includes(run));
    if (ofRun.length > 0)
      await queues.deleteBatch(
        dlqUrl,
        ofRun.map((m) => m.receiptHandle),
      );
    if (others.length > 0)
      await queues.release(
        dlqUrl,
        others.map((m) => m.receiptHandle),
      );
    deleted += ofRun.length;
  }
}
