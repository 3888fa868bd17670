/**
 * `npm test`: type-check, lint (focused/skipped tests are errors), the import structure
 * (dependency-cruiser: no cycles, layers that run one way), unused files, exports and dependencies
 * (knip), cfn-lint and checkov over the synthesized templates, then every vitest project — unit,
 * infra, sim and e2e (which starts the embedded emulator and deploys the app into it, or uses
 * AWS_ENDPOINT_URL). Extra arguments go to vitest, e.g. `npm test -- --project unit`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../dev/emulator';

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = join(ROOT, '.tandem', 'test-results.json');
rmSync(results, { force: true });
const steps: Array<[string, string, string[]]> = [
  ['type-check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['type-check (the console page)', bin('tsc'), ['--noEmit', '-p', 'console/tsconfig.json']],
  ['lint', bin('biome'), ['ci', '.']],
  ['import structure (dependency-cruiser)', npm, ['run', '--silent', 'check:structure']],
  ['unused files, exports and dependencies (knip)', npm, ['run', '--silent', 'check:unused']],
  ['static checks (cfn-lint, checkov)', bin('tsx'), [join(ROOT, 'scripts', 'static-checks.ts')]],
  [
    'tests',
    bin('vitest'),
    [
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${results}`,
      ...process.argv.slice(2),
    ],
  ],
];
for (const [name, cmd, args] of steps) {
  console.log(`\n[tandem] ${name}: ${[cmd.replace(`${ROOT}/`, ''), ...args].join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (name === 'tests') summarize();
  if (result.status !== 0) {
    console.error(`[tandem] ${name} failed`);
    process.exit(result.status ?? 1);
  }
}

/** One plain closing line with the counts, for people and CI log readers alike. */
function summarize(): void {
  if (!existsSync(results)) return;
  const report = JSON.parse(readFileSync(results, 'utf8')) as Record<string, number | undefined>;
  console.log(
    `\n${report.numPassedTests} passed, ${report.numFailedTests} failed, ${(report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)} skipped`,
  );
}
