import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import setup from '../support/temp-dir';

describe('the test run’s temporary directory', () => {
  it('is where this worker’s temporary files go', () => {
    expect(basename(tmpdir())).toMatch(/^tandem-test-/);
  });

  it('is one for every project, and only the last teardown removes it, with what was left in it', () => {
    const before = process.env.TMPDIR;
    const first = setup();
    const dir = tmpdir();
    const second = setup();
    expect(tmpdir()).toBe(dir);
    writeFileSync(join(dir, 'left-behind'), 'x');

    first();
    expect(existsSync(dir)).toBe(true);
    second();

    expect(existsSync(dir)).toBe(false);
    expect(process.env.TMPDIR).toBe(before);
  });
});
