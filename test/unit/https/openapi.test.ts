import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HEADERS, PHASES } from '../../../shared/https/contract';
import { httpsParticipantOpenApi, httpsParticipantOpenApiText } from '../../../shared/https/openapi';

const FILE = new URL('../../../docs/https-participant.openapi.json', import.meta.url);

/** Every `$ref` string in `value`. */
function refsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refsOf(inner),
  );
}

describe('the OpenAPI document of the HTTPS participant contract', () => {
  it('is exactly what the code generates (run `npm run openapi:https` after changing the contract)', () => {
    expect(readFileSync(FILE, 'utf8')).toBe(httpsParticipantOpenApiText());
  });

  it('describes POST /try, /confirm and /cancel with the signing headers, bodies and answers', () => {
    const doc = httpsParticipantOpenApi() as {
      openapi: string;
      paths: Record<string, { post: { parameters: unknown[]; responses: Record<string, unknown> } }>;
      components: { parameters: Record<string, { name: string }> };
    };

    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(PHASES.map((phase) => `/${phase}`));
    expect(Object.values(doc.components.parameters).map((p) => p.name)).toEqual([
      HEADERS.timestamp,
      HEADERS.signature,
    ]);
    expect(Object.keys(doc.paths['/try']!.post.responses)).toContain('409');
    expect(Object.keys(doc.paths['/confirm']!.post.responses)).not.toContain('409');
    for (const phase of PHASES) {
      expect(doc.paths[`/${phase}`]!.post.responses).toHaveProperty('200');
      expect(doc.paths[`/${phase}`]!.post.responses).toHaveProperty('401');
    }
  });

  it('has no reference that does not resolve', () => {
    const doc = httpsParticipantOpenApi();
    const resolve = (ref: string) =>
      ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);

    const refs = refsOf(doc);

    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();
  });
});
