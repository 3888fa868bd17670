#!/usr/bin/env node
// Entry point of the npm scripts that must work on a fresh clone: installs the npm dependencies
// when they are missing or older than the lock file, then runs scripts/<command>.ts with tsx.
// Plain JavaScript with no dependencies on purpose: it runs before anything is installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);
const known = ['start', 'test', 'deploy-local', 'install-emulator', 'install-browser', 'chaos', 'bench'];
if (!known.includes(command)) {
  console.error(`usage: node scripts/run.mjs <${known.join('|')}> [args…]`);
  process.exit(2);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19) || (major === 22 && minor < 12)) {
  console.error(`Tandem needs Node.js 20.19+, 22.12+ or 24+; this is ${process.version}.`);
  process.exit(1);
}

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.log('[tandem] installing npm dependencies (npm ci) …');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('[tandem] npm ci failed; see the output above.');
    process.exit(result.status ?? 1);
  }
}

const tsx = join(root, 'node_modules', '.bin', 'tsx');
const child = spawn(tsx, [join(root, 'scripts', `${command}.ts`), ...args], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
