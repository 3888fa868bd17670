/**
 * `npm test`: type-check, lint (focused/skipped tests are errors), then every vitest project —
 * unit, infra and e2e (which starts the embedded emulator and deploys the app into it, or uses
 * AWS_ENDPOINT_URL). Extra arguments go to vitest, e.g. `npm test -- --project unit`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/emulator';

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const steps: Array<[string, string, string[]]> = [
  ['type-check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['lint', bin('biome'), ['ci', '.']],
  ['tests', bin('vitest'), ['run', ...process.argv.slice(2)]],
];
for (const [name, cmd, args] of steps) {
  console.log(`\n[tandem] ${name}: ${[cmd.replace(`${ROOT}/`, ''), ...args].join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[tandem] ${name} failed`);
    process.exit(result.status ?? 1);
  }
}
