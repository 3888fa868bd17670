import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { nearestRank } from '../../shared/percentile';
import type { ColdStart } from './types';

/**
 * Cold-start cost of the deployed bundles, measured locally: the size of each function's bundle
 * and the time a fresh Node process takes to load (require) it, which is the module
 * initialisation a Lambda cold start pays on top of the runtime's own start.
 *
 * The functions come from a synthesized cloud assembly (`cdk synth` output): the template names
 * each function's asset directory, handler, memory and environment.
 */

/** One function of a synthesized stack, as `measureColdStarts` needs it. */
export interface AssemblyFunction {
  /** Short name: `api`, `coordinator`, `ledger-0`, … (see `functionsOfAssembly`). */
  readonly name: string;
  readonly logicalId: string;
  /** The function's asset directory (`<assembly>/asset.<hash>`): what Lambda unpacks into its task root. */
  readonly assetDir: string;
  /** The bundle's JS file in it (`<assetDir>/index.js`), from the function's handler. */
  readonly bundlePath: string;
  /** The template's `Handler`, e.g. `index.handler`: the bundle must export `handler`. */
  readonly handler: string;
  readonly memoryMb: number;
  /**
   * The template's environment variables. CloudFormation intrinsics ({Ref}, {Fn::GetAtt},
   * {Fn::Join}, …) are replaced by placeholders of the right shape: a table's name, a queue's URL,
   * an ARN, so that the module's configuration parsing at load succeeds.
   */
  readonly environment: Readonly<Record<string, string>>;
}

/** A bundle that could not be loaded, or a template that does not describe what it should. */
export class ColdStartError extends Error {
  override readonly name = 'ColdStartError';
}

const FUNCTION_TYPE = 'AWS::Lambda::Function';
/** Lambda's default when a template sets no MemorySize. */
const DEFAULT_MEMORY_MB = 128;
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
/** Nothing listens on the discard port: an SDK call made at load fails fast instead of leaving the host. */
const UNREACHABLE_ENDPOINT = 'http://127.0.0.1:9';
const RESULT_MARKER = '__tandem_cold_start__';
const CHILD_TIMEOUT_MS = 60_000;

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

interface Template {
  readonly Resources?: Record<string, Resource>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
}

/**
 * Every Lambda function of `<assemblyDir>/<stackName>.template.json` whose code is a local Node.js
 * asset, CDK's own helpers (custom-resource providers, log retention, …) left out.
 *
 * Names: a participant's `PARTICIPANT_ID` (`ledger-0`, `inventory`), otherwise the construct path
 * without the stack, the trailing `Resource` and the `Fn` of NodeFunction, its last part without a
 * `Fn`/`Function`/`Handler` suffix, in kebab case: `Tandem-local/Coordinator/SweeperFn/Fn/Resource`
 * → `sweeper`, `Tandem-local/Api/Fn/Resource` → `api`. Two functions that would share a name are
 * named by their logical ids instead.
 */
export function functionsOfAssembly(assemblyDir: string, stackName: string): AssemblyFunction[] {
  const templatePath = join(assemblyDir, `${stackName}.template.json`);
  let template: Template;
  try {
    template = JSON.parse(readFileSync(templatePath, 'utf8')) as Template;
  } catch (error) {
    throw new ColdStartError(`cannot read the template ${templatePath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const resources = template.Resources ?? {};
  const functions = Object.entries(resources)
    .filter(([, resource]) => resource.Type === FUNCTION_TYPE && !isCdkHelper(resource))
    .flatMap(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const runtime = props.Runtime;
      // Inline code and other languages have no bundle to load.
      if (typeof assetPath !== 'string' || (typeof runtime === 'string' && !runtime.startsWith('nodejs'))) {
        return [];
      }
      const environment = Object.fromEntries(
        Object.entries(variablesOf(props)).map(([key, value]) => [
          key,
          placeholderOf(value, template, stackName),
        ]),
      );
      const participantId = variablesOf(props).PARTICIPANT_ID;
      const assetDir = join(assemblyDir, assetPath);
      return [
        {
          name: typeof participantId === 'string' ? participantId : nameOfPath(resource, logicalId),
          logicalId,
          assetDir,
          bundlePath: bundlePathOf(assetDir, props.Handler, logicalId),
          handler: typeof props.Handler === 'string' ? props.Handler : 'index.handler',
          memoryMb: typeof props.MemorySize === 'number' ? props.MemorySize : DEFAULT_MEMORY_MB,
          environment,
        },
      ];
    });
  const counts = new Map<string, number>();
  for (const fn of functions) counts.set(fn.name, (counts.get(fn.name) ?? 0) + 1);
  return functions.map((fn) => ((counts.get(fn.name) ?? 0) > 1 ? { ...fn, name: fn.logicalId } : fn));
}

/** How `measureColdStarts` runs the children. */
export interface MeasureOptions {
  /** Fresh processes per function; the median is reported. */
  readonly runs?: number;
  /** The Node executable of the children; this process's own by default. */
  readonly node?: string;
}

/**
 * Bundle size and median load time of each function, each run in a fresh `node` process with the
 * function's environment, fake credentials and an unreachable AWS endpoint. Functions are measured
 * one after the other, so they do not compete for the CPU. Throws a `ColdStartError` naming the
 * function and quoting its stderr when a bundle fails to load.
 */
export function measureColdStarts(
  functions: readonly AssemblyFunction[],
  { runs = 5, node = process.execPath }: MeasureOptions = {},
): ColdStart[] {
  if (!Number.isInteger(runs) || runs < 1) {
    throw new ColdStartError(`runs must be a positive integer, got ${runs}`);
  }
  return functions.map((fn) => {
    const bundleBytes = statSync(fn.bundlePath).size;
    const taskRoot = taskRootOf(fn);
    try {
      const bundle = join(taskRoot, relative(fn.assetDir, fn.bundlePath));
      const samplesMs = Array.from({ length: runs }, () => loadOnce(fn, bundle, taskRoot, node));
      return { name: fn.name, bundleBytes, initMs: median(samplesMs) };
    } finally {
      rmSync(taskRoot, { recursive: true, force: true });
    }
  });
}

/**
 * A copy of the function's asset directory, as Lambda's task root holds it. Loaded where it is,
 * the bundle would sit under the repository's package.json, whose `"type": "module"` would make
 * Node load the CommonJS bundle as an ES module; the copy's own package.json says CommonJS.
 */
function taskRootOf(fn: AssemblyFunction): string {
  const taskRoot = mkdtempSync(join(tmpdir(), `cold-start-${fn.name.replace(/[^\w.-]/g, '_')}-`));
  cpSync(fn.assetDir, taskRoot, { recursive: true });
  writeFileSync(join(taskRoot, 'package.json'), '{ "type": "commonjs" }\n');
  return taskRoot;
}

// Times require() only: Node's own start and the exit are not part of it. A module without the
// handler export was not loaded the way Lambda loads it (e.g. as an ES module). The marker keeps
// the result apart from anything the module prints while loading; exit() stops timers it starts.
const HARNESS = [
  'const [bundle, handler] = process.argv.slice(1);',
  'const start = process.hrtime.bigint();',
  'const exported = require(bundle);',
  'const initMs = Number(process.hrtime.bigint() - start) / 1e6;',
  'if (typeof exported[handler] !== "function") {',
  '  console.error("the bundle exports no function " + handler);',
  '  process.exit(3);',
  '}',
  `process.stdout.write('\\n${RESULT_MARKER}' + JSON.stringify({ initMs }) + '\\n');`,
  'process.exit(0);',
].join('\n');

function loadOnce(fn: AssemblyFunction, bundle: string, taskRoot: string, node: string): number {
  const handlerExport = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
  const child = spawnSync(node, ['-e', HARNESS, bundle, handlerExport], {
    cwd: taskRoot,
    env: childEnvironment(fn, taskRoot),
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const fail = (why: string): never => {
    const stderr = tailOf(child.stderr ?? '');
    throw new ColdStartError(
      `function ${fn.name} (${fn.bundlePath}) failed to load: ${why}${stderr ? `\n${stderr}` : ''}`,
    );
  };
  if (child.error) fail(child.error.message);
  if (child.status !== 0) fail(child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`);
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_MARKER));
  const initMs: unknown = line ? JSON.parse(line.slice(RESULT_MARKER.length)).initMs : undefined;
  if (typeof initMs !== 'number' || !Number.isFinite(initMs)) return fail('the harness printed no timing');
  return initMs;
}

/**
 * Only what Lambda would set, nothing of this process's environment (no real credentials, no
 * profile): the template's variables, the Lambda runtime's own, and fakes for the SDK.
 */
function childEnvironment(fn: AssemblyFunction, taskRoot: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.logicalId}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'cold-start',
    ...fn.environment,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIAFAKECOLDSTART000',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_SESSION_TOKEN: 'fake-session-token',
    AWS_ENDPOINT_URL: UNREACHABLE_ENDPOINT,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The end of a child's stderr, each line cut short: Node quotes the failing line, and a minified one is the whole bundle. */
function tailOf(stderr: string, lines = 30, width = 300): string {
  return stderr
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .map((line) => (line.length > width ? `${line.slice(0, width)}…` : line))
    .join('\n');
}

/** The median as the project's one percentile reads it (nearest rank: a sample, never an average). */
function median(values: readonly number[]): number {
  return (
    nearestRank(
      [...values].sort((a, b) => a - b),
      50,
    ) ?? Number.NaN
  );
}

function variablesOf(props: Record<string, unknown>): Record<string, unknown> {
  const environment = props.Environment as { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

/** `index.handler` → `<assetDir>/index.js` (or `.cjs`/`.mjs`, whichever the asset holds). */
function bundlePathOf(assetDir: string, handler: unknown, logicalId: string): string {
  const file =
    typeof handler === 'string' && handler.includes('.')
      ? handler.slice(0, handler.lastIndexOf('.'))
      : 'index';
  const candidates = ['.js', '.cjs', '.mjs'].map((ext) => join(assetDir, `${file}${ext}`));
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new ColdStartError(
      `function ${logicalId}: no bundle for handler '${String(handler)}' in ${assetDir}`,
    );
  }
  return found;
}

/**
 * CDK's own functions: singletons carry a 32-hex-digit id (`LogRetentionaae0aa3c…`,
 * `AWS679f53fa…`), custom-resource providers a `Custom::` id, and the Provider framework's
 * functions are `framework-onEvent` and the like.
 */
function isCdkHelper(resource: Resource): boolean {
  const path = resource.Metadata?.['aws:cdk:path'];
  if (typeof path !== 'string') return false;
  return path
    .split('/')
    .some((part) => /^Custom::/.test(part) || /[0-9a-f]{32}$/i.test(part) || /^framework-/.test(part));
}

function nameOfPath(resource: Resource, logicalId: string): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  const parts = typeof path === 'string' ? path.split('/').slice(1) : [logicalId.replace(/[0-9A-F]{8}$/, '')];
  if (parts.at(-1) === 'Resource') parts.pop();
  if (parts.length > 1 && parts.at(-1) === 'Fn') parts.pop();
  const stripped = parts.map((part) => part.replace(/(Fn|Function|Handler)$/, '')).filter((part) => part);
  const last = stripped.at(-1);
  return last ? kebab(last) : logicalId;
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * A string standing in for a template value: literals as they are, intrinsics resolved to a name,
 * URL or ARN of the right shape for what they point at.
 */
function placeholderOf(value: unknown, template: Template, stackName: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'placeholder';
  const [[fn, arg] = ['', undefined]] = Object.entries(value);
  const resolve = (v: unknown) => placeholderOf(v, template, stackName);
  switch (fn) {
    case 'Ref':
      return refOf(String(arg), template, stackName);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      return attributeOf(logicalId ?? '', attribute ?? '', template, stackName);
    }
    case 'Fn::Join': {
      const [separator, parts] = Array.isArray(arg) ? arg : [];
      return Array.isArray(parts) ? parts.map(resolve).join(String(separator ?? '')) : 'placeholder';
    }
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
      const locals = (vars ?? {}) as Record<string, unknown>;
      return String(text).replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
        if (name in locals) return resolve(locals[name]);
        const [id, attribute] = name.split('.');
        return attribute
          ? attributeOf(id ?? '', attribute, template, stackName)
          : refOf(name, template, stackName);
      });
    }
    case 'Fn::Select': {
      const [index, list] = Array.isArray(arg) ? arg : [];
      return Array.isArray(list) ? resolve(list[Number(index)]) : 'placeholder';
    }
    default:
      return 'placeholder';
  }
}

function refOf(logicalId: string, template: Template, stackName: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/placeholder`,
  };
  if (logicalId in pseudo) return pseudo[logicalId]!;
  const parameter = template.Parameters?.[logicalId];
  if (parameter) return typeof parameter.Default === 'string' ? parameter.Default : logicalId;
  const resource = template.Resources?.[logicalId];
  // A queue's Ref is its URL; most other resources' is their name.
  return resource?.Type === 'AWS::SQS::Queue' ? queueUrlOf(logicalId, resource) : nameOf(logicalId, resource);
}

function attributeOf(logicalId: string, attribute: string, template: Template, stackName: string): string {
  const resource = template.Resources?.[logicalId];
  if (attribute === 'QueueUrl' && resource) return queueUrlOf(logicalId, resource);
  if (attribute === 'QueueName' || attribute === 'Name') return nameOf(logicalId, resource);
  if (attribute === 'Arn' || attribute.endsWith('Arn')) {
    const service = (resource?.Type ?? 'AWS::Unknown::Resource').split('::')[1]?.toLowerCase() ?? 'unknown';
    return `arn:aws:${service}:${REGION}:${ACCOUNT}:${nameOf(logicalId, resource)}`;
  }
  return `${stackName}-${logicalId}-${attribute}`;
}

function nameOf(logicalId: string, resource: Resource | undefined): string {
  const props = resource?.Properties ?? {};
  const given = props.TableName ?? props.QueueName ?? props.Name ?? props.FunctionName ?? props.TopicName;
  if (typeof given === 'string') return given;
  return resource?.Type === 'AWS::SQS::Queue' && props.FifoQueue === true ? `${logicalId}.fifo` : logicalId;
}

function queueUrlOf(logicalId: string, resource: Resource): string {
  return `${UNREACHABLE_ENDPOINT}/${ACCOUNT}/${nameOf(logicalId, resource)}`;
}
