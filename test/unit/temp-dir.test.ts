import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import setup from '../support/temp-dir';

describe('the test run’s temporary directory', () => {
  it('is where this worker’s temporary files go', () => {
    expect(basename(tmpdir())).toMatch(/^tandem-test-/);
  });

  it('is removed, with what was left in it, when the run ends', () => {
    const before = process.env.TMPDIR;
    const teardown = setup();
    const dir = tmpdir();
    writeFileSync(join(dir, 'left-behind'), 'x');
    teardown();
    expect(existsSync(dir)).toBe(false);
    expect(process.env.TMPDIR).toBe(before);
  });
});
