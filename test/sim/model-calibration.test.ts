import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchTwoPhase, CALIBRATION_RUN, CALIBRATION_TOLERANCE } from '../../sim/calibration';
import { runModel } from '../../sim/model';
import { AWS, AWS_DEFAULT_FIFO, EMULATOR } from '../../sim/profile';

const bench = benchTwoPhase(readFileSync(new URL('../../bench/results/latest.md', import.meta.url), 'utf8'));

/** Within the tolerance of the bench's figure, as a ratio (1 = the bench's). */
const within = (model: number, measured: number) => Math.abs(model / measured - 1) <= CALIBRATION_TOLERANCE;

describe('the model (the simulation in its timed mode)', () => {
  it.each([1, 8, 32])(
    'reproduces the emulator bench at %i client(s): two-phase p50 and transfers/s within the tolerance',
    async (clients) => {
      // Prepare
      const measured = bench.get(clients);
      expect(measured, `bench/results/latest.md has no two-phase row at ${clients}`).toBeDefined();

      // Act
      const model = await runModel({
        seed: CALIBRATION_RUN.seed,
        timed: { ...CALIBRATION_RUN, profile: EMULATOR, load: { kind: 'closed', clients } },
      });

      // Assess
      expect(model.violations).toEqual([]);
      expect(model.aborted).toBe(0);
      const ratios = { p50: model.latencyMs.p50 / measured!.p50Ms, perS: model.perS / measured!.perS };
      expect(within(model.latencyMs.p50, measured!.p50Ms), JSON.stringify(ratios)).toBe(true);
      expect(within(model.perS, measured!.perS), JSON.stringify(ratios)).toBe(true);
    },
  );

  it('holds one batch per FIFO group in flight: one slot caps what many slots carry', async () => {
    // Prepare
    const at = (slotCount: number) =>
      runModel({
        seed: 2,
        timed: {
          profile: AWS,
          load: { kind: 'open', perS: 300 },
          durationMs: 4_000,
          warmupMs: 1_000,
          accounts: 200,
          slotCount,
        },
      });

    // Act
    const [one, many] = [await at(1), await at(32)];

    // Assess: 32 slots carry the offered load; one slot's single coordinator at a time cannot.
    expect([one.violations, many.violations]).toEqual([[], []]);
    expect(many.perS).toBeGreaterThan(0.8 * 300);
    expect(one.perS).toBeLessThan(0.6 * many.perS);
    expect(one.latencyMs.p50).toBeGreaterThan(2 * many.latencyMs.p50);
  });

  it('queues deliveries at the Lambda concurrency limit', async () => {
    // Prepare
    const at = (lambdaConcurrency: number) =>
      runModel({
        seed: 3,
        timed: {
          profile: { ...AWS, lambdaConcurrency },
          load: { kind: 'open', perS: 300 },
          durationMs: 4_000,
          warmupMs: 1_000,
          accounts: 200,
          slotCount: 32,
        },
      });

    // Act
    const [limited, free] = [await at(2), await at(1_000)];

    // Assess
    expect([limited.violations, free.violations]).toEqual([[], []]);
    expect(limited.perS).toBeLessThan(0.6 * free.perS);
    expect(free.coldStarts).toBeGreaterThan(limited.coldStarts);
  });

  it("holds the FIFO queue's SendMessage quota: past 300/s the answers queue up", async () => {
    // Prepare: 1 FIFO send per transfer (the vote that completes the set): 300/s carries ~300/s.
    const at = (profile: typeof AWS, perS: number) =>
      runModel({
        seed: 4,
        timed: {
          profile,
          load: { kind: 'open', perS },
          durationMs: 4_000,
          warmupMs: 1_000,
          accounts: 200,
          slotCount: 64,
        },
      });

    // Act
    const [free, under, over] = [
      await at(AWS, 450),
      await at(AWS_DEFAULT_FIFO, 200),
      await at(AWS_DEFAULT_FIFO, 450),
    ];

    // Assess: under the bound the quota costs little; over it, latency piles up.
    expect([free.violations, under.violations, over.violations]).toEqual([[], [], []]);
    expect(under.latencyMs.p50).toBeLessThan(1.5 * free.latencyMs.p50);
    expect(over.latencyMs.p50).toBeGreaterThan(4 * free.latencyMs.p50);
    expect(over.perS).toBeLessThan(0.8 * free.perS);
  });

  it('slows only the transfers that debit a hot account, once it is past its knee', async () => {
    // Prepare: 100 transfers/s; 5 % or 15 % of them debit one account.
    const at = (hotShare: number) =>
      runModel({
        seed: 5,
        timed: {
          profile: AWS,
          load: { kind: 'open', perS: 100, hotShare },
          durationMs: 6_000,
          warmupMs: 2_000,
          accounts: 1_000,
          slotCount: 64,
        },
      });

    // Act
    const [light, heavy] = [await at(0.05), await at(0.15)];

    // Assess: past the knee the hot transfers wait on their account's conflicts; the others do not.
    expect([light.violations, heavy.violations]).toEqual([[], []]);
    const [lightHot, heavyHot, heavyOther] = [light.byHot!.hot, heavy.byHot!.hot, heavy.byHot!.other];
    expect(lightHot.p50Ms).toBeLessThan(1.5 * light.byHot!.other.p50Ms);
    expect(heavy.conflictsPerTransfer).toBeGreaterThan(light.conflictsPerTransfer);
    expect(heavyHot.p99Ms).toBeGreaterThan(3 * heavyOther.p99Ms);
    expect(heavyOther.p50Ms).toBeLessThan(1.2 * light.byHot!.other.p50Ms);
  });
});
