/**
 * Tandem's Lambda code, by name: the one table of every function Tandem ships and the TypeScript
 * entry it is built from. `scripts/build.ts` bundles each entry into `dist/lambda/<name>/index.js`
 * (with its source map), and `NodeFunction` deploys that directory as it is: the constructs never
 * run a bundler, so a team that installs Tandem needs neither esbuild nor Tandem's sources.
 *
 * To add a function: add its entry here, run the build, and pass its name to `NodeFunction`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAMBDA_ENTRIES = {
  api: 'functions/api/handler.ts',
  coordinator: 'functions/coordinator/handler.ts',
  timers: 'functions/timers/handler.ts',
  sweeper: 'functions/sweeper/handler.ts',
  events: 'functions/events/handler.ts',
  'deploy-guard': 'functions/deploy-guard/handler.ts',
  participant: 'functions/participant/handler.ts',
  intake: 'functions/intake/handler.ts',
  relay: 'functions/relay/handler.ts',
  'bench-direct-transfer': 'functions/bench/direct-transfer.ts',
  'bench-hop': 'functions/bench/hop.ts',
} as const satisfies Record<string, string>;

export type LambdaCodeName = keyof typeof LAMBDA_ENTRIES;

/** The `name` in Tandem's package.json: how the package root is told from any other package.json. */
const PACKAGE_NAME = 'tandem';

let root: string | undefined;

/**
 * The directory of Tandem's package.json, found from this module's own location: the repository
 * when it runs from the sources, `node_modules/tandem` when it runs from an installed package
 * (`dist/lib/infra/lambda-code.js`). Never the current directory, which belongs to whoever synthesizes.
 */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

/** The nearest directory at or above `start` whose package.json is named PACKAGE_NAME. */
export function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME
    )
      return dir;
    if (dirname(dir) === dir)
      throw new Error(`cannot find Tandem's package.json (name "${PACKAGE_NAME}") in ${start} or above it`);
  }
}

/** Where the build puts the bundle of `name`: `<package root>/dist/lambda/<name>`. */
export function lambdaCodeDir(name: string, rootDir = packageRoot()): string {
  return join(rootDir, 'dist', 'lambda', name);
}

/**
 * The directory of the pre-built bundle of `name`, checked: an unknown name or a bundle that was
 * never built fails here, at synth, with what to do about it.
 */
export function builtLambdaCode(name: string, rootDir = packageRoot()): string {
  if (!Object.hasOwn(LAMBDA_ENTRIES, name)) {
    throw new Error(
      `unknown Tandem Lambda code "${name}"; known: ${Object.keys(LAMBDA_ENTRIES).join(', ')} (infra/lambda-code.ts)`,
    );
  }
  const dir = lambdaCodeDir(name, rootDir);
  if (!existsSync(join(dir, 'index.js'))) {
    throw new Error(
      `Tandem's Lambda code "${name}" is not built: ${join(dir, 'index.js')} is missing. ` +
        `Run \`npm run build\` in ${rootDir} first (an installed Tandem package ships it built).`,
    );
  }
  return dir;
}
