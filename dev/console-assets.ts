/**
 * The console's page, bundled at build time: esbuild compiles console/src (React, TanStack Query,
 * Recharts) into one script and one stylesheet, which the console's server serves as they are.
 * `npm run console` builds them before it starts (a second or two); so does the browser test.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT, STATE_DIR } from './emulator';

const CONSOLE_ASSETS_DIR = join(STATE_DIR, 'console-assets');

export async function buildConsoleAssets(outDir: string = CONSOLE_ASSETS_DIR): Promise<string> {
  await build({
    entryPoints: { app: join(ROOT, 'console', 'src', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'linked',
    logLevel: 'warning',
  });
  return outDir;
}
