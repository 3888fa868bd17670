/**
 * `npm test`: type-check, lint (focused/skipped tests are errors), the import structure
 * (dependency-cruiser: no cycles, layers that run one way), unused files, exports and dependencies
 * (knip), cfn-lint and checkov over the synthesized templates, then every vitest project: unit,
 * infra, pack, sim, e2e and slow (chaos, bench). The last two start the embedded emulator and deploy
 * the app into it once, or use AWS_ENDPOINT_URL.
 *
 * `npm run test:fast` (`--fast`): the same checks but cfn-lint and checkov, then the unit and infra
 * projects only; no emulator, well under a minute.
 *
 * Extra arguments go to vitest, e.g. `npm test -- --project unit`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../dev/emulator';

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = join(ROOT, '.tandem', 'test-results.json');
rmSync(results, { force: true });
const fast = process.argv.includes('--fast');
const vitestArgs = process.argv.slice(2).filter((arg) => arg !== '--fast');
const fastProjects = ['--project', 'unit', '--project', 'infra'];

/** Name, command, arguments, and whether `--fast` runs it. */
const allSteps: Array<[string, string, string[], boolean]> = [
  ['type-check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], true],
  ['type-check (the console page)', bin('tsc'), ['--noEmit', '-p', 'console/tsconfig.json'], true],
  ['lint', bin('biome'), ['ci', '.'], true],
  ['import structure (dependency-cruiser)', npm, ['run', '--silent', 'check:structure'], true],
  ['unused files, exports and dependencies (knip)', npm, ['run', '--silent', 'check:unused'], true],
  ['static checks (cfn-lint, checkov)', bin('tsx'), [join(ROOT, 'scripts', 'static-checks.ts')], false],
  [
    'tests',
    bin('vitest'),
    [
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${results}`,
      ...(fast ? fastProjects : []),
      ...vitestArgs,
    ],
    true,
  ],
];
const steps = allSteps.filter(([, , , inFast]) => inFast || !fast);
const startedAtMs = Date.now();
for (const [name, cmd, args] of steps) {
  console.log(`\n[tandem] ${name}: ${[cmd.replace(`${ROOT}/`, ''), ...args].join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (name === 'tests') summarize();
  if (result.status !== 0) {
    console.error(`[tandem] ${name} failed`);
    process.exit(result.status ?? 1);
  }
}

/** How long it took, then one plain closing line with the counts, for people and CI log readers alike. */
function summarize(): void {
  console.log(
    `\n[tandem] ${fast ? 'test:fast' : 'test'} took ${Math.round((Date.now() - startedAtMs) / 1000)} s`,
  );
  if (!existsSync(results)) return;
  const report = JSON.parse(readFileSync(results, 'utf8')) as Record<string, number | undefined>;
  console.log(
    `\n${report.numPassedTests} passed, ${report.numFailedTests} failed, ${(report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)} skipped`,
  );
}
