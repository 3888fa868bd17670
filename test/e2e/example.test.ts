/**
 * The example outside the package, as a team runs it: Tandem packed into a tarball, the example
 * (examples/seat-booking) copied to an empty directory outside this repository, the tarball and the
 * example's own dependencies installed there, its type-check, its CDK app deployed to this run's
 * emulator with its own cdklocal, and its own test run through TandemClient. A participant of a new
 * kind (seat booking) takes part next to Tandem's ledger and inventory without a line of Tandem's
 * source changed.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { emulatorEnv } from '../../dev/deploy';
import { ROOT } from '../../dev/emulator';
import { packTandem, run } from '../support/consumer';

const deployment = inject('deployment');
const work = mkdtempSync(join(tmpdir(), 'tandem-example-'));
const example = join(work, 'seat-booking');
const env = {
  ...emulatorEnv(deployment.endpoint),
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  FORCE_COLOR: '0',
  CI: 'true',
};

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the seat-booking example, outside the package', () => {
  it('installs the packed Tandem, type-checks, deploys to the emulator and passes its own test', () => {
    const tarball = packTandem(work);
    cpSync(join(ROOT, 'examples', 'seat-booking'), example, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|cdk\.out|outputs\.json)$/.test(source),
    });
    const npm = (what: string, args: string[], timeoutMs?: number) =>
      run(what, 'npm', args, example, { env, ...(timeoutMs ? { timeoutMs } : {}) });
    // The tarball replaces the example's `file:` dependency on the repository.
    npm('installing the example with the tarball', [
      'install',
      ...['--prefer-offline', '--no-audit', '--no-fund'],
      tarball,
    ]);
    npm('type-checking the example', ['run', 'typecheck']);
    npm('deploying the example to the emulator', ['run', 'deploy:local'], 600_000);
    const output = npm("running the example's test", ['test'], 300_000);
    // node:test's summary: `# pass 4` (TAP, Node 20's default off a terminal) or `ℹ pass 4` (spec,
    // the default from Node 23 on).
    expect(output).toMatch(/^[#ℹ] pass 4$/m);
    expect(output).toMatch(/^[#ℹ] fail 0$/m);
  });
});
