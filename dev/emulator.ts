/**
 * The embedded local AWS: ministack (MIT, LocalStack-compatible) from PyPI, pinned, installed on
 * demand into a project-local virtualenv (.tandem/venv), started on a free loopback port.
 *
 * If the user points at an emulator of their own (TANDEM_ENDPOINT or AWS_ENDPOINT_URL), nothing is
 * installed or started and that endpoint is used.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const MINISTACK_VERSION = '1.5.33';
export const ROOT = resolve(import.meta.dirname, '..');
export const STATE_DIR = join(ROOT, '.tandem');
const VENV = join(STATE_DIR, 'venv');
const STAMP = join(VENV, '.tandem-ministack-version');
const MINISTACK_BIN = join(VENV, 'bin', 'ministack');

export class SetupError extends Error {
  override readonly name = 'SetupError';
}

function run(cmd: string, args: string[], what: string): void {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new SetupError(`${what} failed (${cmd} ${args.join(' ')}):\n${result.error?.message ?? output}`);
  }
}

function findPython(): string {
  for (const candidate of [process.env.TANDEM_PYTHON, 'python3', 'python'].filter(Boolean) as string[]) {
    const probe = spawnSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) continue;
    const [major, minor] = probe.stdout.trim().split('.').map(Number);
    if (major === 3 && (minor ?? 0) >= 10) return candidate;
    throw new SetupError(
      `${candidate} is Python ${probe.stdout.trim()}; the local AWS emulator needs Python 3.10 or newer.\n` +
        'Install a newer python3 (e.g. `sudo apt-get install python3` on Debian/Ubuntu, `brew install python` on macOS),\n' +
        'or set TANDEM_PYTHON to its path, or point Tandem at a running emulator with AWS_ENDPOINT_URL.',
    );
  }
  throw new SetupError(
    'python3 was not found; the local AWS emulator (ministack) needs Python 3.10 or newer.\n' +
      'Install it (Debian/Ubuntu: `sudo apt-get install python3 python3-venv`; macOS: `brew install python`),\n' +
      'or set TANDEM_PYTHON to its path, or point Tandem at a running emulator with AWS_ENDPOINT_URL.',
  );
}

/** Installs the pinned ministack into .tandem/venv unless that exact version is already there. */
export function ensureMinistack(log: (line: string) => void = () => {}): string {
  if (
    existsSync(MINISTACK_BIN) &&
    existsSync(STAMP) &&
    readFileSync(STAMP, 'utf8').trim() === MINISTACK_VERSION
  ) {
    return MINISTACK_BIN;
  }
  const python = findPython();
  mkdirSync(STATE_DIR, { recursive: true });
  log(`installing ministack ${MINISTACK_VERSION} into ${VENV} …`);
  const venv = spawnSync(python, ['-m', 'venv', '--clear', VENV], { encoding: 'utf8' });
  if (venv.status !== 0 || !existsSync(join(VENV, 'bin', 'pip'))) {
    throw new SetupError(
      `could not create a Python virtualenv with '${python} -m venv':\n${(venv.stderr ?? '').trim()}\n` +
        'Install the venv module (Debian/Ubuntu: `sudo apt-get install python3-venv`), then run the command again.',
    );
  }
  run(
    join(VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', `ministack==${MINISTACK_VERSION}`],
    `installing ministack ${MINISTACK_VERSION}`,
  );
  writeFileSync(STAMP, `${MINISTACK_VERSION}\n`);
  return MINISTACK_BIN;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface Emulator {
  readonly endpoint: string;
  /** Path of the emulator's log, or undefined when the user's own emulator is used. */
  readonly logFile: string | undefined;
  /** True when Tandem started it (and so stops it). */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/** An endpoint the user configured, if any: TANDEM_ENDPOINT wins over AWS_ENDPOINT_URL. */
export function userEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.TANDEM_ENDPOINT || env.AWS_ENDPOINT_URL;
  return value ? value.replace(/\/+$/, '') : undefined;
}

async function waitHealthy(endpoint: string, child: ChildProcess, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new SetupError(`ministack exited with code ${child.exitCode} while starting; see ${logFile}`);
    }
    try {
      const response = await fetch(`${endpoint}/_ministack/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new SetupError(`ministack did not become healthy within ${timeoutMs} ms; see ${logFile}`);
}

/** Uses the user's emulator when configured, else installs and starts ministack on a free port. */
export async function startEmulator(
  options: { log?: (line: string) => void; port?: number } = {},
): Promise<Emulator> {
  const log = options.log ?? (() => {});
  const configured = userEndpoint();
  if (configured) {
    log(
      `using the emulator at ${configured} (from ${process.env.TANDEM_ENDPOINT ? 'TANDEM_ENDPOINT' : 'AWS_ENDPOINT_URL'})`,
    );
    return { endpoint: configured, logFile: undefined, embedded: false, stop: async () => {} };
  }
  const bin = ensureMinistack(log);
  const port = options.port ?? (await freePort());
  const logDir = join(STATE_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `ministack-${port}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(bin, [], {
    cwd: STATE_DIR,
    env: {
      ...process.env,
      GATEWAY_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      // Queue URLs then name the same host as the endpoint ministack gives its Lambdas.
      MINISTACK_HOST: '127.0.0.1',
      MINISTACK_REGION: process.env.AWS_REGION ?? 'us-east-1',
      LOG_LEVEL: process.env.TANDEM_EMULATOR_LOG_LEVEL ?? 'INFO',
      // ministack runs Node Lambdas as local processes; keep them warm for the whole session.
      LAMBDA_EXECUTOR: 'local',
      LAMBDA_WARM_TTL_SECONDS: '3600',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const endpoint = `http://localhost:${port}`;
  await waitHealthy(endpoint, child, logFile, 60_000);
  log(`ministack ${MINISTACK_VERSION} is up at ${endpoint} (log: ${logFile})`);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGTERM'); // the whole process group: ministack and its Lambda workers
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { endpoint, logFile, embedded: true, stop };
}
