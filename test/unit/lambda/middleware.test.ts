import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvocationPacing } from '../../../shared/backoff';
import { instruments, lambdaHandler } from '../../../shared/lambda/middleware';
import { METER_ENV, METER_LOG_KEY } from '../../../shared/metering';
import { METRIC, MetricUnit } from '../../../shared/observability';
import { lambdaContext, printedLines } from './support';

describe("Tandem's Lambda middleware stack", () => {
  afterEach(() => vi.unstubAllEnvs());

  it('logs one meter line per invocation, under the service name, when metering is on', async () => {
    // Prepare
    vi.stubEnv(METER_ENV, 'on');
    const handler = lambdaHandler(instruments('api'), async () => ({ statusCode: 200 }));

    // Act
    const lines = await printedLines(async () => {
      await handler({ requestContext: { http: {} } }, lambdaContext('req-1'));
      await handler({ requestContext: { http: {} } }, lambdaContext('req-2'));
    });

    // Assess
    const meter = lines.filter((line) => METER_LOG_KEY in line);
    expect(meter).toHaveLength(2);
    expect(meter[0]).toMatchObject({
      [METER_LOG_KEY]: { fn: 'api', requests: { 'Lambda:Invoke': 1, 'APIGateway:Request': 1 } },
    });
  });

  it('flushes the metrics recorded before an error, and rethrows it', async () => {
    // Prepare
    const observed = instruments('coordinator');
    const handler = lambdaHandler(observed, async (): Promise<never> => {
      observed.metrics.addMetric(METRIC.effectFailures, MetricUnit.Count, 1);
      throw new Error('boom');
    });

    // Act
    let thrown: unknown;
    const lines = await printedLines(() => handler({}, lambdaContext('req-1')).catch((e) => (thrown = e)));

    // Assess
    expect((thrown as Error).message).toBe('boom');
    expect(lines.filter((line) => '_aws' in line)).toEqual([
      expect.objectContaining({ service: 'coordinator', EffectFailures: 1 }),
    ]);
  });

  it('prints nothing for an invocation that recorded no metric and logged nothing', async () => {
    // Prepare
    const handler = lambdaHandler(instruments('ledger-0'), async () => ({ batchItemFailures: [] }));

    // Act
    const lines = await printedLines(() => handler({ Records: [] }, lambdaContext('req-1')));

    // Assess
    expect(lines).toEqual([]);
  });

  it("starts the pacing's deadline from the invocation's remaining time", async () => {
    // Prepare
    const clock = { nowMs: () => 50_000 };
    const pacing = new InvocationPacing(clock, 1_000);
    let deadlineMs: number | undefined;
    const handler = lambdaHandler(
      instruments('intake-orders'),
      async () => {
        deadlineMs = pacing.deadlineMs();
      },
      { pacing },
    );

    // Act
    await handler({}, lambdaContext('req-1', 8_000));

    // Assess
    expect(deadlineMs).toBe(50_000 + 8_000 - 1_000);
  });
});
