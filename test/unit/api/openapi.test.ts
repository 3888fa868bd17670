import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import { ROUTE_KEYS } from '../../../shared/api/app';
import {
  CreateAccountRequest,
  CreateItemRequest,
  TransactionRequest,
  TransferRequest,
} from '../../../shared/schemas';
import { world } from './harness';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

async function served(): Promise<Doc> {
  const answer = await world().call('GET /openapi.json', { rawPath: '/openapi.json' });
  expect(answer.statusCode).toBe(200);
  expect(answer.headers?.['content-type']).toBe('application/json');
  return answer.json;
}

/** Every `$ref` anywhere in `value`. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [child] : refsIn(child),
  );
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with exactly the routes of the router', async () => {
    const doc = await served();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...ROUTE_KEYS].sort());
  });

  it('documents problem+json answers and resolves every reference', async () => {
    const doc = await served();
    for (const ref of refsIn(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
    }
    const transfer = doc.paths['/transfers']!.post!;
    expect(Object.keys(transfer.responses).sort()).toEqual(['200', '202', '400', '409', '422', '500', '503']);
    expect(transfer.responses['422']).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
    expect(doc.components.schemas.Problem).toMatchObject({
      required: expect.arrayContaining(['type', 'title', 'status', 'detail']),
    });
  });

  // The published JSON Schemas, read back into validators, must agree with the zod schemas the API
  // validates with (except for the cross-field checks JSON Schema cannot express, which the
  // schema descriptions spell out).
  // What the API accepts of POST /transactions: the envelope, then each operation against its
  // participant's registered schema.
  const registry = bankAndShopRegistry(2);
  const TransactionAsTheApi = TransactionRequest.superRefine((request, ctx) => {
    for (const issue of registry.issuesOf(request.operations))
      ctx.addIssue({ code: 'custom', message: issue.message });
  });
  const samples: Array<[string, z.ZodType, unknown[], unknown[]]> = [
    [
      'TransferRequest',
      TransferRequest,
      [
        { from: 'a', to: 'b', amount: 1 },
        { from: 'a', to: 'b', amount: 9, idempotencyKey: 'order-1' },
      ],
      [
        { from: 'a', to: 'b', amount: 0 },
        { from: 'a', to: 'b', amount: 1.5 },
        { from: 'a', to: 'b', amount: '1' },
        { from: 'a', amount: 1 },
        { from: 'a', to: 'b', amount: 1, memo: 'x' },
        { from: 'a/b', to: 'b', amount: 1 },
        { from: 'a', to: 'b', amount: 1, idempotencyKey: 'with space' },
      ],
    ],
    [
      'TransactionRequest',
      TransactionAsTheApi,
      [
        { operations: [{ participant: 'ledger', action: 'credit', accountId: 'a', amount: 3 }] },
        {
          idempotencyKey: 'k',
          operations: [
            { participant: 'ledger', action: 'debit', accountId: 'a', amount: 3 },
            { participant: 'inventory', action: 'release', sku: 's', quantity: 1 },
          ],
        },
      ],
      [
        { operations: [] },
        { operations: [{ participant: 'shipping', action: 'ship' }] },
        { operations: [{ participant: 'ledger', action: 'reserve', accountId: 'a', amount: 3 }] },
        { operations: [{ participant: 'inventory', action: 'reserve', sku: 's', quantity: 0 }] },
        { operations: [{ participant: 'inventory', action: 'reserve', sku: 's', quantity: 1, x: 1 }] },
        {
          operations: Array.from({ length: 26 }, (_, i) => ({
            participant: 'inventory',
            action: 'reserve',
            sku: `s${i}`,
            quantity: 1,
          })),
        },
        { operations: [], extra: 1 },
      ],
    ],
    [
      'CreateAccountRequest',
      CreateAccountRequest,
      [{ accountId: 'a', initialBalance: 0 }],
      [
        { accountId: 'a', initialBalance: -1 },
        { accountId: '', initialBalance: 1 },
      ],
    ],
    [
      'CreateItemRequest',
      CreateItemRequest,
      [{ sku: 's', stock: 2 }],
      [{ sku: 's' }, { sku: 's', stock: 2.5 }],
    ],
  ];

  it.each(samples)(
    'publishes a %s schema that accepts and rejects what the API does',
    async (name, schema, valid, invalid) => {
      const doc = await served();
      const published = z.fromJSONSchema(
        doc.components.schemas[name] as Parameters<typeof z.fromJSONSchema>[0],
      );
      for (const sample of valid) {
        expect(schema.safeParse(sample).success, JSON.stringify(sample)).toBe(true);
        expect(published.safeParse(sample).success, JSON.stringify(sample)).toBe(true);
      }
      for (const sample of invalid) {
        expect(schema.safeParse(sample).success, JSON.stringify(sample)).toBe(false);
        expect(published.safeParse(sample).success, JSON.stringify(sample)).toBe(false);
      }
    },
  );

  it('describes the checks JSON Schema cannot express', async () => {
    const { schemas } = (await served()).components;
    expect(schemas.TransferRequest?.description).toMatch(/`from` must differ from `to`/);
    expect(schemas.TransactionRequest?.description).toMatch(/at most one operation per item/);
    expect(schemas.TransactionRequest?.description).toMatch(/unknown `participant` fails the schema \(400\)/);
  });
});
