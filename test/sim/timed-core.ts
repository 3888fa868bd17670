import { SimCore } from '../../sim/core';
import { AWS, type TimingProfile } from '../../sim/profile';
import { Runtime } from '../../sim/runtime';

/** A timed-mode core and runtime for a unit of the world: one slot, two accounts, a second of load. */
export function timedRuntime(profile: TimingProfile = AWS): { core: SimCore; runtime: Runtime } {
  const core = new SimCore({
    seed: 1,
    timed: {
      profile,
      load: { kind: 'open', perS: 1 },
      durationMs: 1_000,
      warmupMs: 0,
      accounts: 2,
      slotCount: 1,
    },
  });
  return { core, runtime: new Runtime(core) };
}
