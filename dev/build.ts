/**
 * Builds what the Tandem package ships in `dist/`:
 * - `dist/lambda/<name>/index.js` (+ `index.js.map`): one esbuild bundle per entry of
 *   infra/lambda-code.ts, the code `NodeFunction` deploys; rebuilt only when one of its inputs changed;
 * - `dist/lib/`: the JavaScript and declarations of the package's entry points (`tandem/cdk`,
 *   `tandem/participant`, `tandem/intake`, `tandem/client`) in a form Node's ES module loader takes as it is.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { LAMBDA_ENTRIES, lambdaCodeDir } from '../infra/lambda-code';
import { ROOT, SetupError } from './emulator';

/**
 * How every function is bundled. Measured with dev/bench/cold-start.ts; numbers and what
 * was tried in docs/design.md, "Bundles".
 */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  // CommonJS: an ES module output loaded no faster and would change the file to index.mjs.
  format: 'cjs',
  minify: true,
  sourcemap: true,
  // Bundle the SDK too: tree-shaken clients start faster than the runtime's full copy, and the
  // emulator runs handlers as plain local Node processes that have no SDK of their own.
  external: [],
  // The SDK's ES module builds (dist-es) instead of its CommonJS ones: esbuild can drop what is
  // not used from those, about a fifth of each bundle, and a third of its load time.
  mainFields: ['module', 'main'],
  // Stack traces still map to the TypeScript source; the map just leaves the sources out (about
  // 70 % of it), so the asset Lambda downloads is smaller and the map parses faster.
  sourcesContent: false,
  // Non-ASCII text (zod's locale messages) as is rather than as \u escapes.
  charset: 'utf8',
} as const satisfies esbuild.BuildOptions;

/** What the last build of each bundle read, to tell whether it must be built again. */
interface Stamp {
  readonly settings: string;
  readonly bundles: Record<string, { readonly entry: string; readonly inputs: Record<string, string> }>;
}

/** Files every bundle depends on besides the ones esbuild reports reading. */
const ALWAYS_INPUTS = ['package-lock.json', 'tsconfig.json'];

export interface LambdaBuild {
  readonly built: string[];
  readonly upToDate: string[];
  readonly ms: number;
}

/**
 * Bundles every function of infra/lambda-code.ts whose bundle is missing or whose inputs (every
 * file esbuild read for it, by content) changed since it was built; `force` builds them all.
 * Files are written to a temporary name and renamed, so a synth running beside never reads half a file.
 */
export async function buildLambdaCode(
  options: {
    readonly force?: boolean;
    readonly root?: string;
    /** Code name → entry, relative to `root`; infra/lambda-code.ts's table unless a test passes its own. */
    readonly entries?: Readonly<Record<string, string>>;
  } = {},
): Promise<LambdaBuild> {
  const started = Date.now();
  const root = options.root ?? ROOT;
  const entries: Readonly<Record<string, string>> = options.entries ?? LAMBDA_ENTRIES;
  const stampFile = join(root, 'dist', '.lambda-build.json');
  const settings = JSON.stringify({ esbuild: esbuild.version, ...BUNDLE_OPTIONS });
  const previous = options.force ? undefined : readStamp(stampFile, settings);
  const hashes = new Map<string, string>();
  const hashOf = (file: string): string => {
    const hash = hashes.get(file) ?? hashFile(join(root, file)) ?? 'missing';
    hashes.set(file, hash);
    return hash;
  };
  const names = Object.keys(entries);
  const isFresh = (name: string) => {
    const last = previous?.bundles[name];
    return (
      last !== undefined &&
      last.entry === entries[name] &&
      existsSync(join(lambdaCodeDir(name, root), 'index.js')) &&
      Object.entries(last.inputs).every(([file, hash]) => hashOf(file) === hash)
    );
  };
  const upToDate = names.filter(isFresh);
  const stale = names.filter((name) => !upToDate.includes(name));
  const results = await Promise.all(stale.map((name) => bundle(root, name, entries[name] ?? '')));
  const bundles: Stamp['bundles'] = {};
  for (const name of upToDate) if (previous?.bundles[name]) bundles[name] = previous.bundles[name];
  for (const [name, entry, inputs] of results) {
    bundles[name] = {
      entry,
      inputs: Object.fromEntries([...ALWAYS_INPUTS, ...inputs].map((file) => [file, hashOf(file)])),
    };
  }
  removeUnknownBundles(root, names);
  if (stale.length > 0) writeAtomically(stampFile, JSON.stringify({ settings, bundles } satisfies Stamp));
  return { built: stale, upToDate, ms: Date.now() - started };
}

async function bundle(root: string, name: string, entry: string): Promise<[string, string, string[]]> {
  const outdir = lambdaCodeDir(name, root);
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      ...BUNDLE_OPTIONS,
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: join(outdir, 'index.js'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
  } catch (error) {
    const errors = (error as esbuild.BuildFailure).errors ?? [];
    const text = errors.map((e) => `${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text}`);
    throw new SetupError(
      `bundling ${entry} (Lambda code "${name}") failed:\n${text.join('\n') || (error as Error).message}`,
      { cause: error },
    );
  }
  mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  return [name, entry, Object.keys(result.metafile.inputs).filter((file) => !file.includes(':'))];
}

function readStamp(file: string, settings: string): Stamp | undefined {
  try {
    const stamp = JSON.parse(readFileSync(file, 'utf8')) as Stamp;
    return stamp.settings === settings ? stamp : undefined;
  } catch {
    return undefined;
  }
}

function hashFile(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('base64url');
  } catch {
    return undefined;
  }
}

function writeAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/** Removes bundles of functions no longer in infra/lambda-code.ts, so the package does not ship them. */
function removeUnknownBundles(root: string, names: readonly string[]): void {
  const dir = dirname(lambdaCodeDir('-', root));
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    if (!names.includes(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * Emits `dist/lib` from tsconfig.lib.json: tsc writes JavaScript and declarations, then tsc-alias
 * gives every relative import the full path Node's ES module loader needs (`./foo` → `./foo.js`,
 * `../protocol` → `../protocol/index.js`), in the .js and the .d.ts files alike.
 */
export function buildLibrary(root = ROOT): { ms: number } {
  const started = Date.now();
  rmSync(join(root, 'dist', 'lib'), { recursive: true, force: true });
  const bin = (name: string) => join(root, 'node_modules', '.bin', name);
  for (const [tool, args] of [
    ['tsc', ['-p', 'tsconfig.lib.json']],
    ['tsc-alias', ['-p', 'tsconfig.lib.json', '--resolve-full-paths']],
  ] as const) {
    const run = spawnSync(bin(tool), args, { cwd: root, encoding: 'utf8' });
    if (run.status !== 0) {
      throw new SetupError(
        `${tool} ${args.join(' ')} failed (exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}${run.error?.message ?? ''}`,
      );
    }
  }
  return { ms: Date.now() - started };
}
