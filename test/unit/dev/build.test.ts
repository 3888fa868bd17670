import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLambdaCode } from '../../../dev/build';

// A package of two functions: `greet` imports a helper, `other` does not.
const root = mkdtempSync(join(tmpdir(), 'tandem-build-'));
const write = (file: string, text: string) => {
  mkdirSync(join(root, file, '..'), { recursive: true });
  writeFileSync(join(root, file), text);
};
write('package.json', '{ "name": "tandem" }');
write('package-lock.json', '{}');
write('tsconfig.json', '{}');
write('src/helper.ts', "export const greeting = (name: string): string => 'héllo ' + name;\n");
write(
  'src/greet.ts',
  "import { greeting } from './helper';\nexport const handler = async () => greeting('you');\n",
);
write('src/other.ts', 'export const handler = async () => 42;\n');
const entries = { greet: 'src/greet.ts', other: 'src/other.ts' };
const build = (force = false) => buildLambdaCode({ root, entries, force });
const bundle = (name: string) => join(root, 'dist', 'lambda', name, 'index.js');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('buildLambdaCode', () => {
  it('bundles each entry into dist/lambda/<name> as a CommonJS module with a source map', async () => {
    expect((await build()).built.sort()).toEqual(['greet', 'other']);
    const exported = execFileSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(bundle('greet'))}).handler().then((r) => process.stdout.write(r))`],
      { encoding: 'utf8' },
    );
    expect(exported).toBe('héllo you');
    const source = readFileSync(bundle('greet'), 'utf8');
    expect(source).toContain('héllo'); // charset utf8: no \u escapes
    expect(source).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    const map = JSON.parse(readFileSync(`${bundle('greet')}.map`, 'utf8')) as Record<string, unknown>;
    expect(map.sourcesContent).toBeUndefined();
  });

  it('builds again only the bundles whose inputs changed, and the missing ones', async () => {
    await build();
    expect(await build()).toMatchObject({ built: [], upToDate: ['greet', 'other'] });
    write('src/helper.ts', "export const greeting = (name: string): string => 'hi ' + name;\n");
    expect(await build()).toMatchObject({ built: ['greet'], upToDate: ['other'] });
    write('tsconfig.json', '{ "compilerOptions": {} }');
    expect((await build()).built.sort()).toEqual(['greet', 'other']);
    rmSync(bundle('other'));
    expect(await build()).toMatchObject({ built: ['other'], upToDate: ['greet'] });
    expect(existsSync(bundle('other'))).toBe(true);
    expect((await build(true)).built.sort()).toEqual(['greet', 'other']);
  });

  it('removes the bundles of functions that left the table', async () => {
    await build();
    await buildLambdaCode({ root, entries: { greet: entries.greet } });
    expect(existsSync(bundle('greet'))).toBe(true);
    expect(existsSync(join(root, 'dist', 'lambda', 'other'))).toBe(false);
  });

  it('says which entry failed to bundle and why', async () => {
    await expect(buildLambdaCode({ root, entries: { broken: 'src/missing.ts' } })).rejects.toThrow(
      /bundling src\/missing\.ts \(Lambda code "broken"\) failed:\n.*Could not resolve/,
    );
  });
});
