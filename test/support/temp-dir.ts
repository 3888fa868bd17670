import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives a test run, and what it starts (its workers, CDK synths, the emulator and its Lambdas), a
 * temporary directory of its own, removed when the run ends. A CDK `App` without an `outdir`
 * synthesizes into a new `cdk.out…` under the temporary directory and never removes it: before
 * this, each `npm run test:fast` left ~0.8 GB there, and runs over weeks filled the disk.
 * Vitest calls it before it starts a project's workers, which inherit `TMPDIR`.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'tandem-test-'));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
