/**
 * Deploys the real CDK app into an emulator (embedded ministack, or the user's LocalStack/ministack)
 * with aws-cdk-local: `cdklocal bootstrap` then `cdklocal deploy`, exactly what a user would run.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TandemClient } from '../client';
import { ROOT, SetupError, STATE_DIR } from './emulator';

const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
const LOCAL_STAGE = 'local';
export const LOCAL_STACK = `Tandem-${LOCAL_STAGE}`;

export interface LocalDeployment {
  readonly endpoint: string;
  readonly stackName: string;
  readonly apiId: string;
  /** Base URL of the HTTP API that works from any client (path-style, no wildcard DNS needed). */
  readonly apiUrl: string;
  readonly outputs: Record<string, string>;
}

/** Environment for SDK clients and the CDK CLI that talk to the emulator. */
export function emulatorEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: endpoint,
    // aws-cdk-local insists on this one whenever AWS_ENDPOINT_URL is set.
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    CDK_DEFAULT_ACCOUNT: LOCAL_ACCOUNT,
    CDK_DEFAULT_REGION: LOCAL_REGION,
  };
}

/** The context flags of the local stack. Only here is the API deployed without SigV4 auth. */
const LOCAL_CONTEXT = ['-c', `stage=${LOCAL_STAGE}`, '-c', 'apiAuth=none'];

/** The API client of a local deployment: its API has no auth (LOCAL_CONTEXT). */
export function localApiClient(deployment: LocalDeployment): TandemClient {
  return new TandemClient({ url: deployment.apiUrl, auth: 'none' });
}

function cdklocal(args: string[], endpoint: string, logFile: string): Promise<void> {
  const bin = join(ROOT, 'node_modules', '.bin', 'cdklocal');
  return new Promise((resolveRun, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n$ cdklocal ${args.join(' ')}\n`);
    const child = spawn(bin, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        ...emulatorEnv(endpoint),
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        FORCE_COLOR: '0',
        CI: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk: Buffer) => {
      out.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => {
      out.end();
      if (code === 0) resolveRun();
      else reject(new SetupError(`cdklocal ${args[0]} failed (exit ${code}); full log: ${logFile}\n${tail}`));
    });
  });
}

/**
 * Carries the loopback port of the app's payment service (an HTTPS participant the e2e tests
 * serve) to every deploy of one test run: the global setup picks a free port and sets it before
 * the test files load, so a test's redeploy with TEST_CONTEXT keeps the relay pointed there.
 */
export const PAYMENTS_PORT_ENV = 'TANDEM_PAYMENTS_PORT';

/**
 * Settings of the stack the test suite deploys: fault plans on (crash and drop points), the bench's
 * metering and baselines (so the suite runs a small bench), and short protocol timeouts so recovery
 * paths finish in seconds.
 */
export const TEST_CONTEXT = [
  ...['-c', 'faults=on', '-c', 'bench=on', '-c', 'prepareTimeoutMs=20000'],
  ...['-c', 'resendBaseMs=3000', '-c', 'resendCapMs=10000'],
  ...paymentsPortContext(),
];

/** `-c paymentsPort=<port>` when PAYMENTS_PORT_ENV is set; nothing (the app's default) otherwise. */
export function paymentsPortContext(env: NodeJS.ProcessEnv = process.env): string[] {
  const port = env[PAYMENTS_PORT_ENV]?.trim();
  return port ? ['-c', `paymentsPort=${port}`] : [];
}

/**
 * Removes what earlier local deploys left behind on other ports — each deploy writes a cloud
 * assembly (~9 MB) under `cdk.local.out/<port>` and `.tandem/outputs-<port>.json`, and test runs
 * pick a fresh port every time — once it is older than `maxAgeMs` (an hour). Whatever still uses
 * its assembly on another port (a deploy next to it; the bench, which reads bundle sizes from it a
 * quarter of an hour after its deploy) is younger than that. The emulator's and the deploy's logs
 * of other ports (`.tandem/logs/{ministack,deploy}-<port>.log`) go after `logMaxAgeMs` (a day), so
 * the logs of a failed run are still there the same day. Returns the paths it removed.
 */
export function pruneStaleDeploys(
  root: string,
  stateDir: string,
  keepPort: string,
  nowMs: number,
  maxAgeMs = 60 * 60 * 1000,
  logMaxAgeMs = 24 * 60 * 60 * 1000,
): string[] {
  const assemblies = join(root, 'cdk.local.out');
  const logs = join(stateDir, 'logs');
  const candidates: Array<[string, number]> = [
    ...entries(assemblies)
      .filter((name) => /^\d+$/.test(name) && name !== keepPort)
      .map((name): [string, number] => [join(assemblies, name), maxAgeMs]),
    ...entries(stateDir)
      .filter((name) => /^outputs-\d+\.json$/.test(name) && name !== `outputs-${keepPort}.json`)
      .map((name): [string, number] => [join(stateDir, name), maxAgeMs]),
    ...entries(logs)
      .filter((name) => /^(ministack|deploy)-\d+\.log$/.test(name) && !name.endsWith(`-${keepPort}.log`))
      .map((name): [string, number] => [join(logs, name), logMaxAgeMs]),
  ];
  const removed: string[] = [];
  for (const [path, maxAge] of candidates) {
    try {
      if (nowMs - statSync(path).mtimeMs < maxAge) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Gone already (another deploy pruned it): nothing to do.
    }
  }
  return removed;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export async function deployLocal(
  endpoint: string,
  log: (line: string) => void = () => {},
  extraContext: readonly string[] = [],
): Promise<LocalDeployment> {
  mkdirSync(join(STATE_DIR, 'logs'), { recursive: true });
  const port = new URL(endpoint).port || '4566';
  const logFile = join(STATE_DIR, 'logs', `deploy-${port}.log`);
  const outputsFile = join(STATE_DIR, `outputs-${port}.json`);
  pruneStaleDeploys(ROOT, STATE_DIR, port, Date.now());
  // One output folder per emulator port, so two local deploys (npm test and npm run chaos) never collide.
  const common = [...LOCAL_CONTEXT, ...extraContext, '--output', `cdk.local.out/${port}`];
  log('bootstrapping the CDK environment in the emulator …');
  await cdklocal(['bootstrap', `aws://${LOCAL_ACCOUNT}/${LOCAL_REGION}`, ...common], endpoint, logFile);
  log(`deploying ${LOCAL_STACK} (the real CDK app) …`);
  await cdklocal(
    [
      'deploy',
      LOCAL_STACK,
      ...common,
      '--require-approval',
      'never',
      '--outputs-file',
      outputsFile,
      '--progress',
      'events',
    ],
    endpoint,
    logFile,
  );
  const outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[
    LOCAL_STACK
  ];
  const apiEndpoint = outputs?.ApiUrl;
  const apiId = apiEndpoint ? /^https?:\/\/([^./]+)\./.exec(apiEndpoint)?.[1] : undefined;
  if (!outputs || !apiId)
    throw new SetupError(`deploy finished but the ApiUrl output is missing; see ${logFile}`);
  return {
    endpoint,
    stackName: LOCAL_STACK,
    apiId,
    apiUrl: `${endpoint}/_aws/execute-api/${apiId}`,
    outputs,
  };
}

/**
 * Deploys the already bootstrapped local stack again with `extraContext` on top of the local
 * settings (`cdklocal deploy`, as a user would), synthesizing into `outputDir` so the assembly and
 * the outputs file of the first deploy stay as they are. A failed deploy throws a SetupError that
 * ends with the deploy's last output, CloudFormation's reasons included.
 */
export async function redeployLocal(
  endpoint: string,
  extraContext: readonly string[],
  outputDir: string,
): Promise<void> {
  const port = new URL(endpoint).port || '4566';
  await cdklocal(
    [
      'deploy',
      LOCAL_STACK,
      ...LOCAL_CONTEXT,
      ...extraContext,
      '--output',
      outputDir,
      '--require-approval',
      'never',
      '--progress',
      'events',
    ],
    endpoint,
    join(STATE_DIR, 'logs', `deploy-${port}.log`),
  );
}
