import * as z from 'zod';
import type { ParticipantRegistry, ParticipantSpec } from '../registry';
import {
  CreateAccountRequest,
  CreateItemRequest,
  IDEMPOTENCY_KEY_LIFETIME,
  IdempotencyKey,
  Identifier,
  MinorUnits,
  OPERATIONS_MAX,
  TransactionRequest,
  TransferRequest,
  TxId,
  WAIT_MAX_S,
} from '../schemas';
import { DEFAULT_TRANSFER_PARTICIPANT } from '../transactions';
import type { ApiAuth } from './auth';
import { ROUTE_KEYS, ROUTES, type RouteKey, splitRouteKey } from './routes';

/**
 * The OpenAPI 3.1 document of the API, as the stage serves it. Request bodies come from the zod
 * schemas that validate them (`z.toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1 uses as is);
 * answers are described by the zod schemas below, which the unit tests also check real answers
 * against. The document follows the deployment: its participants (the operations' schemas) and its
 * auth (the security schemes, and what the authorizer answers).
 *
 * Two kinds of answer:
 *   the function's   every answer the API function gives, errors as `application/problem+json`
 *                    (RFC 9457) — an unknown path (404) or method (405, with `Allow`) too, through
 *                    the HTTP API's `$default` route;
 *   the gateway's    what API Gateway answers before the function runs: a refused signature (403,
 *                    IAM) or token (401, JWT), throttling (429). An HTTP API has no gateway
 *                    responses to reshape these (a REST API feature), so they are API Gateway's own
 *                    `application/json` `{"message": …}`, declared as such (`GatewayMessage`).
 */

const TxStateSchema = z.enum(['PREPARING', 'COMMITTING', 'COMMITTED', 'ABORTING', 'ABORTED']);
const OutcomeSchema = z.enum(['COMMITTED', 'ABORTED']);

export const HealthSchema = z.strictObject({ status: z.literal('ok') });

const AccountViewSchema = z.strictObject({
  accountId: Identifier,
  balance: MinorUnits,
  available: MinorUnits,
  shard: z.number().int().min(0),
});

const ItemViewSchema = z.strictObject({ sku: Identifier, stock: MinorUnits, available: MinorUnits });

export const AcceptedViewSchema = z.strictObject({
  txId: TxId,
  state: TxStateSchema,
  href: z.string().meta({ description: 'Where to read the transaction: `/transactions/{txId}`' }),
});

const RecordedOperationSchema = z.record(z.string(), z.unknown()).meta({
  description:
    "An operation as its participant received it: the request's operation without its `participant` field (see `Operation`).",
});

export const TransactionViewSchema = z.strictObject({
  txId: TxId,
  state: TxStateSchema,
  mode: z.enum(['one-phase', 'two-phase']).meta({
    description:
      '`one-phase`: committed or refused in one atomic write (the fast path); `two-phase`: prepared, decided and completed by the coordinator',
  }),
  outcome: OutcomeSchema.optional().meta({
    description:
      'Present once the transaction is decided, and final from then on; state COMMITTING or ABORTING means the participants are still applying it',
  }),
  reason: z.string().optional().meta({ description: 'Why it aborted' }),
  participants: z.array(
    z.strictObject({
      id: z.string().meta({ description: 'The participant, e.g. `seats`, or a shard of one: `ledger-1`' }),
      kind: z.string().meta({ description: 'The participant name the operations used, e.g. `ledger`' }),
      operations: z.array(RecordedOperationSchema),
      vote: z.enum(['YES', 'NO']).optional(),
      voteReason: z.string().optional(),
      ack: OutcomeSchema.optional().meta({ description: 'The outcome the participant acknowledged' }),
    }),
  ),
  createdAtMs: z.number().int(),
  decidedAtMs: z.number().int().optional(),
  completedAtMs: z.number().int().optional(),
  timeline: z.array(z.strictObject({ atMs: z.number().int(), event: z.string() })),
});

export const ProblemSchema = z
  .strictObject({
    type: z.string().meta({ description: '`urn:tandem:problem:<slug>`' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.strictObject({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Every validation issue, by path (400 only)' }),
  })
  .meta({ description: 'An RFC 9457 problem document (`application/problem+json`)' });

/** What API Gateway itself answers (403, 401, 429): not a problem document. */
const GatewayMessageSchema = z
  .looseObject({ message: z.string() })
  .meta({ description: 'API Gateway\'s own answer, before the function runs: `{"message": …}`' });

type JsonSchema = Record<string, unknown>;

/** The JSON Schema of a zod schema, as an OpenAPI 3.1 component (without the `$schema` line). */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (name: string) => ({ 'application/json': { schema: ref(name) } });
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const gatewayResponse = (description: string) => ({
  description: `${description} Answered by API Gateway before the function: \`{"message": …}\` as application/json, not a problem document.`,
  content: { 'application/json': { schema: ref('GatewayMessage') } },
});

const waitParameter = {
  name: 'wait',
  in: 'query',
  required: false,
  description: `Hold the request up to this many seconds (0–${WAIT_MAX_S}) for a terminal state, re-reading the transaction every 200 ms.`,
  schema: { type: 'integer', minimum: 0, maximum: WAIT_MAX_S },
};

const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: `Alternative to the body field \`idempotencyKey\`; when both are given they must be equal (else 400). ${IDEMPOTENCY_KEY_LIFETIME}`,
  schema: schemaOf(IdempotencyKey, 'input'),
};

const locationHeader = {
  location: { description: '`/transactions/{txId}`', schema: { type: 'string' } },
  'idempotent-replayed': {
    description: '`true` when an earlier request with the same idempotency key created the transaction',
    schema: { type: 'string', enum: ['true'] },
  },
};

const submitResponses = {
  '200': {
    description: 'The transaction is terminal (within `?wait=N`, or already when replayed).',
    headers: locationHeader,
    content: jsonContent('TransactionView'),
  },
  '202': {
    description:
      'Accepted: the transaction is durably recorded and will be driven to COMMITTED or ABORTED. Also answered if sending a `Prepare` failed: the next check of the transaction re-sends it.',
    headers: locationHeader,
    content: jsonContent('Accepted'),
  },
  '400': problemResponse(
    'Malformed JSON, a failed validation (every issue listed in `errors`), a bad `wait`, or an Idempotency-Key header that differs from the body field. Nothing was written.',
  ),
  '409': problemResponse(
    "The idempotency key was used before with a different request (`idempotency key reused with a different request`), and that transaction's record still exists.",
  ),
  '422': problemResponse(
    "An entity of a counter participant (the ledger's accounts, the inventory's items) does not exist (all unknown ones are named). Nothing was written.",
  ),
  '503': problemResponse('A dependency failed or throttled; retry (with the same idempotency key).'),
};

const commonErrors = {
  '429': gatewayResponse("Throttled: over the stage's or the route's rate limit. Retry with backoff."),
  '500': problemResponse('Unexpected failure; safe to retry.'),
};

/** How the document describes the stage's auth: its schemes, what protected routes require, and the authorizer's refusals. */
interface AuthDescription {
  readonly schemes: Record<string, JsonSchema>;
  readonly security: ReadonlyArray<Record<string, string[]>>;
  readonly refusals: Record<string, ReturnType<typeof gatewayResponse>>;
  readonly summary: string;
}

function describeAuth(auth: ApiAuth): AuthDescription {
  switch (auth.type) {
    case 'iam':
      return {
        schemes: {
          sigv4: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'AWS Signature Version 4 (service `execute-api`) by a principal allowed `execute-api:Invoke` on the route.',
          },
        },
        security: [{ sigv4: [] }],
        refusals: {
          '403': gatewayResponse(
            'The request is not signed, its signature is invalid, or the caller may not `execute-api:Invoke` this route.',
          ),
        },
        summary: 'Every route but `/health` and `/openapi.json` needs an AWS SigV4 signature (IAM).',
      };
    case 'jwt':
      return {
        schemes: {
          jwt: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: `A JWT issued by \`${auth.issuer}\` for the audience ${auth.audience.map((a) => `\`${a}\``).join(' or ')}.`,
          },
        },
        security: [{ jwt: [] }],
        refusals: { '401': gatewayResponse('The bearer token is missing, invalid or expired.') },
        summary: `Every route but \`/health\` and \`/openapi.json\` needs a JWT bearer token from \`${auth.issuer}\`.`,
      };
    case 'none':
      return {
        schemes: {},
        security: [],
        refusals: {},
        summary:
          'This stage has no authentication at all (deployed with `apiAuth=none`: a local emulator stage).',
      };
  }
}

/**
 * One operation of `POST /transactions`: one of the deployment's participants, by `participant`,
 * with that participant's own fields (its registered schema).
 */
function operationSchema(registry: ParticipantRegistry): JsonSchema {
  const variants = registry.specs.map((spec) => {
    const { properties, required, ...rest } = spec.operation as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    const notes = [
      spec.shards ? `Runs on the shard of \`${spec.name}\` that \`${spec.shards.key}\` hashes to.` : '',
      spec.itemKey ? `${sentence(itemRule(spec))} (400).` : '',
    ].filter((note) => note !== '');
    return {
      ...rest,
      type: 'object',
      properties: { participant: { const: spec.name }, ...properties },
      required: ['participant', ...(required ?? [])],
      ...(notes.length > 0 ? { description: notes.join(' ') } : {}),
      // The fields that name the item an operation touches (the cross-operation rule JSON Schema cannot state).
      ...(spec.itemKey ? { 'x-tandem-item-key': [...spec.itemKey] } : {}),
    };
  });
  return { oneOf: variants, discriminator: { propertyName: 'participant' } };
}

/** `at most one \`ledger\` operation per \`accountId\` in a transaction`. */
function itemRule(spec: ParticipantSpec): string {
  const fields = (spec.itemKey ?? []).map((field) => `\`${field}\``).join(' and ');
  return `at most one \`${spec.name}\` operation per ${fields} in a transaction`;
}

const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The counter participants a transfer can name: those with a taking and a giving action. */
function transferParticipants(registry: ParticipantRegistry): string[] {
  return registry.specs
    .filter((spec) => {
      const does = Object.values(spec.counter?.actions ?? {});
      return does.includes('take') && does.includes('give');
    })
    .map((spec) => spec.name);
}

/** TransferRequest, with the participants this deployment can transfer on and the from ≠ to rule. */
function transferSchema(registry: ParticipantRegistry): JsonSchema {
  const { properties, ...rest } = schemaOf(TransferRequest, 'input') as {
    properties: Record<string, Record<string, unknown>>;
  };
  const participants = transferParticipants(registry);
  return {
    ...rest,
    properties: {
      ...properties,
      participant: {
        ...properties.participant,
        enum: participants,
        description: `The counter participant (default \`${DEFAULT_TRANSFER_PARTICIPANT}\`).`,
      },
      to: { ...properties.to, description: 'Must differ from `from` (400).' },
    },
    description: `Shorthand for a transaction on one counter participant (the \`${DEFAULT_TRANSFER_PARTICIPANT}\` unless \`participant\` names another): a debit of \`from\` and a credit of \`to\`. \`from\` must differ from \`to\` (400): JSON Schema cannot compare two fields, so the schema alone accepts \`from\` = \`to\`.`,
  };
}

/** TransactionRequest, its operations each one of the deployment's participants, with the one-per-item rules. */
function transactionSchema(registry: ParticipantRegistry): JsonSchema {
  const { properties, ...rest } = schemaOf(TransactionRequest, 'input') as {
    properties: Record<string, Record<string, unknown>>;
  };
  const rules = registry.specs.filter((spec) => spec.itemKey).map(itemRule);
  return {
    ...rest,
    properties: {
      ...properties,
      operations: {
        ...properties.operations,
        items: operationSchema(registry),
        description: `1–${OPERATIONS_MAX} operations.${rules.length > 0 ? ` ${sentence(rules.join('; '))} (400).` : ''}`,
      },
    },
    description: `1–${OPERATIONS_MAX} operations, each checked against its participant's schema (400 naming the field). Also checked (400): at most one operation per item: ${rules.length > 0 ? rules.join('; ') : 'no participant of this deployment names items'}. JSON Schema cannot compare array items by a field, so the schema alone accepts two operations on one item (each participant's \`x-tandem-item-key\` names the fields). An unknown \`participant\` fails the schema (400).`,
  };
}

/** What each route's operation says beyond the table (routes.ts): its operationId, security and the gateway's errors are added. */
interface OperationSpec {
  readonly summary: string;
  readonly parameters?: readonly JsonSchema[];
  readonly requestBody?: JsonSchema;
  readonly responses: Record<string, JsonSchema>;
}

const idParameter = (name: string, schema: z.ZodType) => ({
  name,
  in: 'path',
  required: true,
  schema: schemaOf(schema, 'input'),
});

const body = (name: string) => ({ required: true, content: jsonContent(name) });

/** `POST /transfers` and `POST /transactions`: a request that starts a transaction. */
const submitOperation = (summary: string, request: string): OperationSpec => ({
  summary,
  parameters: [waitParameter, idempotencyKeyHeader],
  requestBody: body(request),
  responses: submitResponses,
});

/** `POST /accounts`, `POST /inventory/items`: create an entity of a counter participant. */
const createOperation = (summary: string, request: string, view: string, exists: string): OperationSpec => ({
  summary,
  requestBody: body(request),
  responses: {
    '201': { description: 'Created', content: jsonContent(view) },
    '400': problemResponse('Invalid request'),
    '409': problemResponse(exists),
    '503': problemResponse('Retry'),
  },
});

/** `GET /accounts/{accountId}`, `GET /inventory/items/{sku}`: read an entity by its id. */
const readOperation = (summary: string, id: string, view: string, noun: string, malformed: string) => ({
  summary,
  parameters: [idParameter(id, Identifier)],
  responses: {
    '200': { description: `The ${noun}`, content: jsonContent(view) },
    '400': problemResponse(malformed),
    '404': problemResponse(`No such ${noun}`),
    '503': problemResponse('Retry'),
  },
});

/** Every route's operation: a route of the table without one fails type-checking. */
const OPERATIONS: Record<RouteKey, OperationSpec> = {
  'GET /health': {
    summary: 'Liveness',
    responses: { '200': { description: 'Up', content: jsonContent('Health') } },
  },
  'GET /openapi.json': {
    summary: 'This document',
    responses: {
      '200': { description: 'The OpenAPI 3.1 document', content: { 'application/json': { schema: {} } } },
    },
  },
  'POST /accounts': createOperation(
    'Open a ledger account on the shard its id hashes to',
    'CreateAccountRequest',
    'Account',
    'The account exists',
  ),
  'GET /accounts/{accountId}': readOperation(
    'Read an account',
    'accountId',
    'Account',
    'account',
    'Malformed id',
  ),
  'POST /inventory/items': createOperation(
    'Add an inventory item with its stock',
    'CreateItemRequest',
    'Item',
    'The sku exists',
  ),
  'GET /inventory/items/{sku}': readOperation(
    'Read an inventory item',
    'sku',
    'Item',
    'item',
    'Malformed sku',
  ),
  'POST /transfers': submitOperation('Move money between two accounts, atomically', 'TransferRequest'),
  'POST /transactions': submitOperation(
    "Run operations of the deployment's participants as one atomic transaction",
    'TransactionRequest',
  ),
  'GET /transactions/{txId}': {
    summary: 'Read a transaction: state, outcome, participants with votes and acks, timeline',
    parameters: [idParameter('txId', TxId), waitParameter],
    responses: {
      '200': {
        description: 'The transaction (after at most `wait` seconds, terminal or not)',
        content: jsonContent('TransactionView'),
      },
      '400': problemResponse('Malformed id or `wait`'),
      '404': problemResponse('No such transaction'),
      '503': problemResponse('Retry'),
    },
  },
};

/**
 * The document's paths, one operation per route of the table: a public route needs no security
 * and answers only the gateway's common errors; every other one also the authorizer's refusals.
 */
function pathsOf(
  security: AuthDescription['security'],
  protectedErrors: Record<string, JsonSchema>,
): Record<string, Record<string, JsonSchema>> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const routeKey of ROUTE_KEYS) {
    const { method, path } = splitRouteKey(routeKey);
    const route = ROUTES[routeKey];
    const { summary, responses, ...rest } = OPERATIONS[routeKey];
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: route.operationId,
      summary,
      security: route.public ? [] : security,
      ...rest,
      responses: { ...responses, ...(route.public ? commonErrors : protectedErrors) },
    };
  }
  return paths;
}

/** The document of a deployment: its participants' operations and its stage's auth. */
export function openApiDocument(registry: ParticipantRegistry, auth: ApiAuth) {
  const { schemes, security, refusals, summary } = describeAuth(auth);
  const protectedErrors = { ...refusals, ...commonErrors };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tandem',
      version: '0.1.0',
      description: [
        'Atomic multi-service transactions (two-phase commit on Lambda, SQS and DynamoDB). Amounts and quantities are integers in minor units.',
        summary,
        "The API's errors are `application/problem+json` (`Problem`), including a path it does not have (404) and a method a path does not take (405, with an `Allow` header).",
        'API Gateway itself answers some requests before the API does, with its own `application/json` `{"message": …}` (`GatewayMessage`): throttling (429) and, where the stage has auth, a refused signature (403, IAM) or token (401, JWT). An HTTP API cannot reshape these answers, so each operation lists them as they are.',
      ].join(' '),
    },
    components: {
      securitySchemes: schemes,
      schemas: {
        CreateAccountRequest: schemaOf(CreateAccountRequest, 'input'),
        CreateItemRequest: schemaOf(CreateItemRequest, 'input'),
        TransferRequest: transferSchema(registry),
        TransactionRequest: transactionSchema(registry),
        Health: schemaOf(HealthSchema, 'output'),
        Account: schemaOf(AccountViewSchema, 'output'),
        Item: schemaOf(ItemViewSchema, 'output'),
        Accepted: schemaOf(AcceptedViewSchema, 'output'),
        TransactionView: schemaOf(TransactionViewSchema, 'output'),
        Problem: schemaOf(ProblemSchema, 'output'),
        GatewayMessage: schemaOf(GatewayMessageSchema, 'output'),
      },
    },
    paths: pathsOf(security, protectedErrors),
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
