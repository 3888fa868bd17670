import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../dev/emulator';

/**
 * Running npm and node as a team that installed Tandem would: in a project outside this repository,
 * with the environment minus what an enclosing `npm test` adds for its own package (its prefix,
 * lifecycle and package variables), so they act on that project only.
 */
const consumerEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^npm_(package_|lifecycle_|config_local_prefix$|command$|config_call$)/.test(key),
  ),
);

/** Runs `cmd` in `cwd`; throws, with the end of its output, unless it exits 0. */
export function run(
  what: string,
  cmd: string,
  args: readonly string[],
  cwd: string,
  options: { hint?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): string {
  const result: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd,
    env: { ...consumerEnv, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 240_000,
    maxBuffer: 64 << 20,
  });
  if (result.status === 0) return result.stdout;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-4000);
  throw new Error(
    `${what} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ` +
      `${cmd} ${args.join(' ')} in ${cwd}${options.hint ? `\n${options.hint}` : ''}\n${output}`,
  );
}

/** `npm pack` of this repository into `dir` (its prepack builds dist/); the tarball's path. */
export function packTandem(dir: string): string {
  run('npm pack', 'npm', ['pack', '--pack-destination', dir], ROOT);
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}: ${readdirSync(dir).join(', ')}`);
  return join(dir, tarball);
}

/** The version of `pkg` this repository has installed (to install the same in a consumer). */
export const installedVersionOf = (pkg: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
