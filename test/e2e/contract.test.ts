import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { waitNoLiveTransactions } from '../../dev/bench/stack';
import { type PaymentService, paymentServiceOf } from '../../dev/payments-service';
import { inParallel } from '../support/api-client';

// The deployed local API against the document it serves (GET /openapi.json): requests generated
// from each operation's schemas, valid and not, and every answer checked against what the document
// lists for that operation — no 5xx, every error a problem document, every body its schema.
const deployment = inject('deployment');
/** Fixed, so a failure replays; TANDEM_CONTRACT_SEED explores others. */
const SEED = Number(process.env.TANDEM_CONTRACT_SEED ?? 20_261_203);
const RUNS_PER_OPERATION = 60;
const CONCURRENCY = 8;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Answers API Gateway gives itself (`{"message"}`), not the function's problem documents. */
const GATEWAY_STATUSES = new Set([401, 403, 429]);

type Schema = Record<string, unknown>;
interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required?: boolean;
  readonly schema: Schema;
}
interface Response {
  readonly content?: Record<string, { readonly schema: Schema }>;
}
interface Operation {
  readonly operationId: string;
  readonly security?: unknown[];
  readonly parameters?: Parameter[];
  readonly requestBody?: { readonly content: Record<string, { readonly schema: Schema }> };
  readonly responses: Record<string, Response>;
}
interface Document {
  readonly info: { readonly description: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly securitySchemes: Schema; readonly schemas: Record<string, Schema> };
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** The operation the request was generated for (its answer must be one it lists), if any. */
  readonly operation?: Operation;
  /** What a request no route matches must get: 404, or 405 with this Allow. */
  readonly unrouted?: { readonly allow?: string };
  readonly valid: boolean;
}

let doc: Document;

// Generated transactions may include the HTTPS participant `payments`: its service runs for the
// test, and the test ends only when every transaction it started has ended (or after 90 s), so
// none is left retrying a cancel to a service that is gone (the bench waits for a quiet stack).
let payments: PaymentService;

afterAll(async () => {
  await waitNoLiveTransactions(deployment, (line) => console.log(`[contract] ${line}`), 90_000);
  await payments?.stop();
});

beforeAll(async () => {
  payments = paymentServiceOf(deployment);
  await payments.start();
  const response = await fetch(`${deployment.apiUrl}/openapi.json`);
  expect(response.status).toBe(200);
  doc = (await response.json()) as Document;
});

/** `schema` with every `$ref` replaced by the component it names. */
function deref(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(deref);
  if (schema === null || typeof schema !== 'object') return schema;
  const { $ref, ...rest } = schema as Schema;
  if (typeof $ref === 'string') return deref(doc.components.schemas[$ref.split('/').pop()!]);
  return Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, deref(value)]));
}

/** Ids of entities that exist, so that generated operations also reach the use cases (2xx). */
const run = Date.now().toString(36);
const known = { accounts: [`fz-a-${run}`, `fz-b-${run}`], skus: [`fz-s-${run}`], txIds: [] as string[] };
const KNOWN_FIELDS: Record<string, () => readonly string[]> = {
  accountId: () => known.accounts,
  from: () => known.accounts,
  to: () => known.accounts,
  sku: () => known.skus,
  txId: () => known.txIds,
};

/** A value `schema` accepts (JSON Schema as the document uses it), known ids mixed in by field name. */
function accepted(schema: Schema, field = ''): fc.Arbitrary<unknown> {
  const knownIds = KNOWN_FIELDS[field]?.() ?? [];
  const generated = generatedOf(schema);
  return knownIds.length > 0 ? fc.oneof(fc.constantFrom(...knownIds), generated) : generated;
}

function generatedOf(schema: Schema): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  if (Array.isArray(schema.oneOf)) return fc.oneof(...(schema.oneOf as Schema[]).map((s) => accepted(s)));
  switch (schema.type) {
    case 'string': {
      const minLength = (schema.minLength as number | undefined) ?? 0;
      const maxLength = (schema.maxLength as number | undefined) ?? 64;
      const text =
        typeof schema.pattern === 'string'
          ? fc.stringMatching(new RegExp(schema.pattern))
          : fc.string({ minLength, maxLength });
      return text.filter((s) => s.length >= minLength && s.length <= maxLength);
    }
    case 'integer': {
      const min = (schema.minimum as number | undefined) ?? 0;
      const max = (schema.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER;
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 1_000) }), fc.constantFrom(min, max));
    }
    case 'array': {
      const minLength = (schema.minItems as number | undefined) ?? 0;
      const maxLength = Math.min((schema.maxItems as number | undefined) ?? 4, minLength + 3);
      return fc.array(accepted(schema.items as Schema), { minLength, maxLength });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      return fc.record(
        Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, accepted(s, name)])),
        { requiredKeys: (schema.required ?? []) as string[] },
      );
    }
    default:
      return fc.jsonValue();
  }
}

/** A body the schema likely refuses: a required field gone, an unknown one, a wrong type, not JSON. */
function invalidBodyOf(schema: Schema): fc.Arbitrary<{ text: string; contentType: string }> {
  const asJson = (value: unknown) => ({ text: JSON.stringify(value), contentType: 'application/json' });
  const object = accepted(schema) as fc.Arbitrary<Record<string, unknown>>;
  const required = (schema.required ?? []) as string[];
  return fc.oneof(
    fc.tuple(object, fc.constantFrom(...required)).map(([value, drop]) => {
      const { [drop]: _dropped, ...rest } = value;
      return asJson(rest);
    }),
    object.map((value) => asJson({ ...value, unexpected: true })),
    fc
      .tuple(object, fc.constantFrom(...required), fc.jsonValue())
      .map(([value, key, wrong]) => asJson({ ...value, [key]: wrong })),
    fc.jsonValue().map(asJson),
    fc.string().map((text) => ({ text: `{${text}`, contentType: 'application/json' })),
    object.map((value) => ({ text: JSON.stringify(value), contentType: 'text/plain' })),
    fc.constant({ text: '', contentType: 'application/json' }),
  );
}

/**
 * A path parameter the schema may refuse. Not empty, `.` or `..`: those make another path (the URL
 * is normalised, and the emulator's path-style addressing drops the trailing slash of a one-segment
 * path), which the requests to no route cover.
 */
const invalidSegment = fc.string({ minLength: 1, maxLength: 70 }).filter((s) => s !== '.' && s !== '..');

/** `wait` values the document allows kept short (a hold of up to 20 s each would not fit the run), and ones it does not. */
const waitOf = (valid: boolean) =>
  valid ? fc.constantFrom('0', '1') : fc.constantFrom('-1', '21', 'abc', '1.5', '', '0x1');

/** Requests for one operation: valid ones from its schemas, and invalid ones. */
function requestsFor(path: string, method: string, operation: Operation): fc.Arbitrary<Request> {
  const parameters = operation.parameters ?? [];
  const bodySchema = operation.requestBody?.content['application/json']?.schema;
  const request = (valid: boolean) =>
    fc
      .record({
        pathValues: fc.tuple(
          ...parameters
            .filter((p) => p.in === 'path')
            .map((p) =>
              (valid ? accepted(deref(p.schema) as Schema, p.name) : invalidSegment).map(
                (value) => [p.name, value as string] as const,
              ),
            ),
        ),
        wait: fc.option(waitOf(valid), { nil: undefined }),
        key: fc.option(valid ? fc.stringMatching(/^[\x21-\x7E]{1,40}$/) : fc.constantFrom('with space', ''), {
          nil: undefined,
        }),
        body: bodySchema
          ? valid
            ? accepted(deref(bodySchema) as Schema).map((value) => ({
                text: JSON.stringify(value),
                contentType: 'application/json',
              }))
            : invalidBodyOf(deref(bodySchema) as Schema)
          : fc.constant(undefined),
      })
      .map(({ pathValues, wait, key, body }): Request => {
        let filled = path;
        for (const [name, value] of pathValues)
          filled = filled.replace(`{${name}}`, encodeURIComponent(value));
        const takes = (name: string) => parameters.some((p) => p.name === name);
        const query = takes('wait') && wait !== undefined ? `?wait=${encodeURIComponent(wait)}` : '';
        const headers: Record<string, string> = {};
        if (takes('Idempotency-Key') && key !== undefined) headers['idempotency-key'] = key;
        if (body) headers['content-type'] = body.contentType;
        return {
          method: method.toUpperCase(),
          path: `${filled}${query}`,
          headers,
          ...(body ? { body: body.text } : {}),
          operation,
          valid,
        };
      });
  return fc.oneof({ weight: 3, arbitrary: request(true) }, { weight: 2, arbitrary: request(false) });
}

/** Requests no route matches: a method a path does not take (405), a path the API does not have (404). */
function unroutedRequests(): Request[] {
  const wrongMethods = Object.entries(doc.paths).flatMap(([template, methods]) => {
    const allow = Object.keys(methods)
      .map((m) => m.toUpperCase())
      .join(', ');
    const path = template.replace(/\{[^}]+\}/g, 'x1');
    return METHODS.filter((m) => !(m.toLowerCase() in methods)).map(
      (method): Request => ({ method, path, headers: {}, unrouted: { allow }, valid: false }),
    );
  });
  const segments = fc.sample(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { numRuns: 20, seed: SEED });
  const unknownPaths = [...segments.map((s) => `/${s}`), '/accounts/a/b', '/transactions/a/b', '/inventory']
    .filter((path) => !(path in doc.paths))
    .flatMap((path) =>
      (['GET', 'POST'] as const).map(
        (method): Request => ({ method, path, headers: {}, unrouted: {}, valid: false }),
      ),
    );
  return [...wrongMethods, ...unknownPaths];
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function send(request: Request): Promise<Answer> {
  const response = await fetch(`${deployment.apiUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const PROBLEM: Schema = { $ref: '#/components/schemas/Problem' };
const validators = new Map<Schema, z.ZodType>();
function validatorOf(schema: Schema): z.ZodType {
  let validator = validators.get(schema);
  if (!validator) {
    validator = z.fromJSONSchema(deref(schema) as Parameters<typeof z.fromJSONSchema>[0]);
    validators.set(schema, validator);
  }
  return validator;
}

/** What is wrong with `answer` to `request` by the document; empty when nothing is. */
function violationsOf(request: Request, answer: Answer): string[] {
  const problems: string[] = [];
  const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
  let body: unknown;
  try {
    body = answer.text === '' ? undefined : JSON.parse(answer.text);
  } catch {
    problems.push(`body is not JSON: ${answer.text.slice(0, 80)}`);
  }
  if (answer.status >= 500) problems.push(`a ${answer.status}`);
  if (request.unrouted) {
    const expected = request.unrouted.allow ? 405 : 404;
    if (answer.status !== expected) problems.push(`status ${answer.status}, expected ${expected}`);
    if (request.unrouted.allow && answer.headers.get('allow') !== request.unrouted.allow) {
      problems.push(`Allow '${answer.headers.get('allow')}', expected '${request.unrouted.allow}'`);
    }
  }
  const response = request.operation?.responses[String(answer.status)];
  if (request.operation && !response) problems.push(`status ${answer.status} is not listed`);
  if (answer.status >= 400 && !GATEWAY_STATUSES.has(answer.status)) {
    if (contentType !== 'application/problem+json') problems.push(`an error as ${contentType}`);
    const checked = validatorOf(PROBLEM).safeParse(body);
    if (!checked.success || (body as { status?: unknown }).status !== answer.status) {
      problems.push(`not a problem document of its status: ${answer.text.slice(0, 120)}`);
    }
  }
  const declared = response?.content?.[contentType];
  if (response?.content && !declared) problems.push(`content-type ${contentType} is not listed`);
  if (declared) {
    const checked = validatorOf(declared.schema).safeParse(body);
    if (!checked.success) problems.push(`body does not conform: ${checked.error.message.slice(0, 200)}`);
  }
  return problems;
}

describe('the deployed API against the document it serves', () => {
  it("declares the local stage's real auth: none", () => {
    expect(doc.components.securitySchemes).toEqual({});
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect(operation.security, `${method} ${path}`).toEqual([]);
        expect(Object.keys(operation.responses), `${method} ${path}`).not.toContain('403');
        expect(Object.keys(operation.responses), `${method} ${path}`).not.toContain('401');
      }
    }
    expect(doc.info.description).toMatch(/no authentication at all/);
  });

  it('answers a few hundred generated requests, valid and invalid, as the document says', {
    timeout: 120_000,
  }, async () => {
    // Prepare: entities the generated requests may name, and one transaction to read.
    const post = (path: string, body: unknown) =>
      send({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        valid: true,
      });
    for (const accountId of known.accounts) await post('/accounts', { accountId, initialBalance: 1_000 });
    for (const sku of known.skus) await post('/inventory/items', { sku, stock: 100 });
    const transfer = await post('/transfers', { from: known.accounts[0], to: known.accounts[1], amount: 1 });
    known.txIds.push((JSON.parse(transfer.text) as { txId: string }).txId);

    const generated = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).flatMap(([method, operation]) =>
        fc.sample(requestsFor(path, method, operation), { numRuns: RUNS_PER_OPERATION, seed: SEED }),
      ),
    );
    const requests = [...generated, ...unroutedRequests()];

    // Act
    const answers = await inParallel(
      CONCURRENCY,
      requests.map((request) => () => send(request)),
    );

    // Assess
    const failures = requests.flatMap((request, i) => {
      const problems = violationsOf(request, answers[i]!);
      return problems.length > 0
        ? [`${request.method} ${request.path} → ${answers[i]!.status}: ${problems.join('; ')}`]
        : [];
    });
    const byStatus = new Map<number, number>();
    for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    console.log(
      `[contract] seed ${SEED}: ${requests.length} requests (${requests.filter((r) => r.valid).length} valid by the schemas, ${
        requests.filter((r) => !r.valid && !r.unrouted).length
      } invalid, ${requests.filter((r) => r.unrouted).length} to no route); statuses ${JSON.stringify(
        Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)),
      )}; ${failures.length} violations`,
    );
    expect(failures).toEqual([]);
    // The run reached the use cases, not only the validation.
    expect([...byStatus.keys()].filter((status) => status < 300).length).toBeGreaterThanOrEqual(2);
    expect(byStatus.get(405)).toBeGreaterThan(0);
  });
});
