import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import type { ApiAuth } from '../../../shared/api/auth';
import { ROUTE_KEYS, ROUTES } from '../../../shared/api/routes';
import {
  CreateAccountRequest,
  CreateItemRequest,
  TransactionRequest,
  TransferRequest,
} from '../../../shared/schemas';
import { world } from './harness';

type Operation = {
  security?: Array<Record<string, string[]>>;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
type Doc = {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, Record<string, unknown>>;
    schemas: Record<string, Record<string, unknown>>;
  };
};

async function served(auth?: ApiAuth): Promise<Doc> {
  const answer = await world(auth ? { auth } : {}).call('GET /openapi.json', { rawPath: '/openapi.json' });
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

  it("takes each operation's id and security from the route table", async () => {
    const doc = await served();
    const operations = ROUTE_KEYS.map((key) => {
      const [method, path] = key.split(' ') as [string, string];
      return {
        key,
        operation: doc.paths[path]![method.toLowerCase()] as Operation & { operationId: string },
      };
    });
    expect(new Set(operations.map(({ operation }) => operation.operationId)).size).toBe(ROUTE_KEYS.length);
    for (const { key, operation } of operations) {
      expect(operation.operationId, key).toBe(ROUTES[key].operationId);
      expect(operation.security, key).toEqual(ROUTES[key].public ? [] : [{ sigv4: [] }]);
    }
    const open = operations.filter(({ operation }) => operation.security?.length === 0).map(({ key }) => key);
    expect(open).toEqual(['GET /health', 'GET /openapi.json']);
  });

  it('documents problem+json answers and resolves every reference', async () => {
    const doc = await served();
    for (const ref of refsIn(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
    }
    const transfer = doc.paths['/transfers']!.post!;
    expect(Object.keys(transfer.responses).sort()).toEqual([
      '200',
      '202',
      '400',
      '403',
      '409',
      '422',
      '429',
      '500',
      '503',
    ]);
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

  it('states the cross-field rules: from ≠ to, one operation per item, 1–25 operations', async () => {
    const { schemas } = (await served()).components;
    const transfer = schemas.TransferRequest as {
      description: string;
      properties: Record<string, { description?: string; enum?: string[] }>;
    };
    expect(transfer.description).toMatch(/`from` must differ from `to` \(400\)/);
    expect(transfer.properties.to?.description).toBe('Must differ from `from` (400).');
    // What JSON Schema can say, it says: the participants a transfer can name.
    expect(transfer.properties.participant?.enum).toEqual(['ledger', 'inventory']);

    const transaction = schemas.TransactionRequest as {
      description: string;
      properties: {
        operations: Record<string, unknown> & { items: { oneOf: Array<Record<string, unknown>> } };
      };
    };
    expect(transaction.description).toMatch(/at most one operation per item/);
    expect(transaction.description).toMatch(/unknown `participant` fails the schema \(400\)/);
    const { operations } = transaction.properties;
    expect(operations).toMatchObject({ minItems: 1, maxItems: 25 });
    expect(operations.description).toBe(
      '1–25 operations. At most one `ledger` operation per `accountId` in a transaction; at most one `inventory` operation per `sku` in a transaction (400).',
    );
    expect(
      operations.items.oneOf.map((variant) => [variant['x-tandem-item-key'], variant.description]),
    ).toEqual([
      [
        ['accountId'],
        expect.stringMatching(/At most one `ledger` operation per `accountId` in a transaction \(400\)\.$/),
      ],
      [['sku'], 'At most one `inventory` operation per `sku` in a transaction (400).'],
    ]);
  });
});

describe('GET /openapi.json, auth and answers of API Gateway', () => {
  const protectedOperations = (doc: Doc) =>
    Object.entries(doc.paths)
      .filter(([path]) => path !== '/health' && path !== '/openapi.json')
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(
          ([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as const,
        ),
      );
  const gatewayMessage = { 'application/json': { schema: { $ref: '#/components/schemas/GatewayMessage' } } };

  it.each<[string, ApiAuth, string, string | undefined]>([
    ['iam', { type: 'iam' }, 'sigv4', '403'],
    ['jwt', { type: 'jwt', issuer: 'https://id.example.com', audience: ['tandem', 'ops'] }, 'jwt', '401'],
    ['none', { type: 'none' }, '', undefined],
  ])("declares the stage's real auth: %s", async (_name, auth, scheme, refusal) => {
    // Act
    const doc = await served(auth);

    // Assess: the scheme the authorizer checks, required by every route but the two public ones,
    // and the authorizer's refusal declared as API Gateway's own answer.
    expect(Object.keys(doc.components.securitySchemes)).toEqual(scheme ? [scheme] : []);
    expect(doc.paths['/health']!.get!.security).toEqual([]);
    expect(doc.paths['/openapi.json']!.get!.security).toEqual([]);
    for (const [route, operation] of protectedOperations(doc)) {
      expect(operation.security, route).toEqual(scheme ? [{ [scheme]: [] }] : []);
      const refusals = Object.keys(operation.responses).filter(
        (status) => status === '401' || status === '403',
      );
      expect(refusals, route).toEqual(refusal ? [refusal] : []);
      if (refusal) expect(operation.responses[refusal]!.content, route).toEqual(gatewayMessage);
    }
  });

  it('describes a JWT stage by its issuer and audiences, and a stage without auth as such', async () => {
    const jwt = await served({ type: 'jwt', issuer: 'https://id.example.com', audience: ['tandem', 'ops'] });
    expect(jwt.components.securitySchemes.jwt).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A JWT issued by `https://id.example.com` for the audience `tandem` or `ops`.',
    });
    const none = await served({ type: 'none' });
    expect(none.info.description).toMatch(
      /This stage has no authentication at all \(deployed with `apiAuth=none`/,
    );
    expect(none.info.description).not.toMatch(/SigV4/);
    expect((await served({ type: 'iam' })).info.description).toMatch(/needs an AWS SigV4 signature/);
  });

  it("declares throttling on every operation as API Gateway's {message}, and every other error as problem+json", async () => {
    const doc = await served();
    expect(doc.components.schemas.GatewayMessage).toMatchObject({
      type: 'object',
      required: ['message'],
      properties: { message: { type: 'string' } },
    });
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const route = `${method.toUpperCase()} ${path}`;
        expect(operation.responses['429']?.content, route).toEqual(gatewayMessage);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400 || status === '429' || status === '403') continue;
          expect(Object.keys(response.content ?? {}), `${route} ${status}`).toEqual([
            'application/problem+json',
          ]);
        }
      }
    }
    expect(doc.info.description).toMatch(
      /404\) and a method a path does not take \(405, with an `Allow` header\)/,
    );
  });
});
