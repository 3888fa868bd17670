import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Shared {
  readonly dir: string;
  readonly previous: string | undefined;
  users: number;
}

const SHARED = Symbol.for('tandem.test.temp-dir');
const processGlobal = globalThis as { [SHARED]?: Shared };

/**
 * Gives a test run, and what it starts (its workers, CDK synths, the emulator and its Lambdas), a
 * temporary directory of its own, removed when the run ends. A CDK `App` without an `outdir`
 * synthesizes into a new `cdk.out…` under the temporary directory and never removes it: before
 * this, each `npm run test:fast` left ~0.8 GB there, and runs over weeks filled the disk.
 * Vitest calls it before it starts a project's workers, which inherit `TMPDIR`. Every project that
 * lists it shares one directory (through the process's global object), and the last teardown
 * removes it: a project's teardown may come while others still run.
 */
export default function setup(): () => void {
  processGlobal[SHARED] ??= {
    dir: mkdtempSync(join(tmpdir(), 'tandem-test-')),
    previous: process.env.TMPDIR,
    users: 0,
  };
  const shared = processGlobal[SHARED];
  shared.users += 1;
  process.env.TMPDIR = shared.dir;
  return () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete processGlobal[SHARED];
    if (shared.previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = shared.previous;
    rmSync(shared.dir, { recursive: true, force: true });
  };
}
