import * as z from 'zod';
import type { ParticipantRegistry } from '../registry';
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

/**
 * The OpenAPI 3.1 document of the API. Request bodies come from the zod schemas that validate them
 * (`z.toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1 uses as is); answers are described by
 * the zod schemas below, which the unit tests also check real answers against.
 */

const TxStateSchema = z.enum(['PREPARING', 'COMMITTING', 'COMMITTED', 'ABORTING', 'ABORTED']);
const OutcomeSchema = z.enum(['COMMITTED', 'ABORTED']);

export const HealthSchema = z.strictObject({ status: z.literal('ok') });

export const AccountViewSchema = z.strictObject({
  accountId: Identifier,
  balance: MinorUnits,
  available: MinorUnits,
  shard: z.number().int().min(0),
});

export const ItemViewSchema = z.strictObject({ sku: Identifier, stock: MinorUnits, available: MinorUnits });

export const AcceptedViewSchema = z.strictObject({
  txId: TxId,
  state: TxStateSchema,
  href: z.string().meta({ description: 'Where to read the transaction: `/transactions/{txId}`' }),
});

export const RecordedOperationSchema = z.record(z.string(), z.unknown()).meta({
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

const commonErrors = { '500': problemResponse('Unexpected failure; safe to retry.') };
const sigv4 = [{ sigv4: [] }];

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
    return {
      ...rest,
      type: 'object',
      properties: { participant: { const: spec.name }, ...properties },
      required: ['participant', ...(required ?? [])],
      ...(spec.shards
        ? { description: `Runs on the shard of \`${spec.name}\` that \`${spec.shards.key}\` hashes to.` }
        : {}),
    };
  });
  return { oneOf: variants, discriminator: { propertyName: 'participant' } };
}

function buildDocument(registry: ParticipantRegistry) {
  const transactionRequest = schemaOf(TransactionRequest, 'input') as {
    properties: Record<string, Record<string, unknown>>;
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tandem',
      version: '0.1.0',
      description:
        'Atomic multi-service transactions (two-phase commit on Lambda, SQS and DynamoDB). Amounts and quantities are integers in minor units. Errors are `application/problem+json`.',
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 (service `execute-api`); not required on stacks deployed with `apiAuth=none`.',
        },
      },
      schemas: {
        CreateAccountRequest: schemaOf(CreateAccountRequest, 'input'),
        CreateItemRequest: schemaOf(CreateItemRequest, 'input'),
        TransferRequest: {
          ...schemaOf(TransferRequest, 'input'),
          description:
            'Shorthand for a transaction on one counter participant (the `ledger` unless `participant` names another): a debit of `from` and a credit of `to`. `from` must differ from `to` (400).',
        },
        TransactionRequest: {
          ...transactionRequest,
          properties: {
            ...transactionRequest.properties,
            operations: { ...transactionRequest.properties.operations, items: operationSchema(registry) },
          },
          description: `1–${OPERATIONS_MAX} operations, each checked against its participant's schema (400 naming the field). Also checked (400): at most one operation per item (per account of the ledger, per sku of the inventory). An unknown \`participant\` fails the schema (400).`,
        },
        Health: schemaOf(HealthSchema, 'output'),
        Account: schemaOf(AccountViewSchema, 'output'),
        Item: schemaOf(ItemViewSchema, 'output'),
        Accepted: schemaOf(AcceptedViewSchema, 'output'),
        TransactionView: schemaOf(TransactionViewSchema, 'output'),
        Problem: schemaOf(ProblemSchema, 'output'),
      },
    },
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          security: [],
          responses: { '200': { description: 'Up', content: jsonContent('Health') } },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: {
            '200': {
              description: 'The OpenAPI 3.1 document',
              content: { 'application/json': { schema: {} } },
            },
          },
        },
      },
      '/accounts': {
        post: {
          operationId: 'createAccount',
          summary: 'Open a ledger account on the shard its id hashes to',
          security: sigv4,
          requestBody: { required: true, content: jsonContent('CreateAccountRequest') },
          responses: {
            '201': { description: 'Created', content: jsonContent('Account') },
            '400': problemResponse('Invalid request'),
            '409': problemResponse('The account exists'),
            '503': problemResponse('Retry'),
            ...commonErrors,
          },
        },
      },
      '/accounts/{accountId}': {
        get: {
          operationId: 'getAccount',
          summary: 'Read an account',
          security: sigv4,
          parameters: [
            { name: 'accountId', in: 'path', required: true, schema: schemaOf(Identifier, 'input') },
          ],
          responses: {
            '200': { description: 'The account', content: jsonContent('Account') },
            '400': problemResponse('Malformed id'),
            '404': problemResponse('No such account'),
            '503': problemResponse('Retry'),
            ...commonErrors,
          },
        },
      },
      '/inventory/items': {
        post: {
          operationId: 'createItem',
          summary: 'Add an inventory item with its stock',
          security: sigv4,
          requestBody: { required: true, content: jsonContent('CreateItemRequest') },
          responses: {
            '201': { description: 'Created', content: jsonContent('Item') },
            '400': problemResponse('Invalid request'),
            '409': problemResponse('The sku exists'),
            '503': problemResponse('Retry'),
            ...commonErrors,
          },
        },
      },
      '/inventory/items/{sku}': {
        get: {
          operationId: 'getItem',
          summary: 'Read an inventory item',
          security: sigv4,
          parameters: [{ name: 'sku', in: 'path', required: true, schema: schemaOf(Identifier, 'input') }],
          responses: {
            '200': { description: 'The item', content: jsonContent('Item') },
            '400': problemResponse('Malformed sku'),
            '404': problemResponse('No such item'),
            '503': problemResponse('Retry'),
            ...commonErrors,
          },
        },
      },
      '/transfers': {
        post: {
          operationId: 'transfer',
          summary: 'Move money between two accounts, atomically',
          security: sigv4,
          parameters: [waitParameter, idempotencyKeyHeader],
          requestBody: { required: true, content: jsonContent('TransferRequest') },
          responses: { ...submitResponses, ...commonErrors },
        },
      },
      '/transactions': {
        post: {
          operationId: 'submitTransaction',
          summary: "Run operations of the deployment's participants as one atomic transaction",
          security: sigv4,
          parameters: [waitParameter, idempotencyKeyHeader],
          requestBody: { required: true, content: jsonContent('TransactionRequest') },
          responses: { ...submitResponses, ...commonErrors },
        },
      },
      '/transactions/{txId}': {
        get: {
          operationId: 'getTransaction',
          summary: 'Read a transaction: state, outcome, participants with votes and acks, timeline',
          security: sigv4,
          parameters: [
            { name: 'txId', in: 'path', required: true, schema: schemaOf(TxId, 'input') },
            waitParameter,
          ],
          responses: {
            '200': {
              description: 'The transaction (after at most `wait` seconds, terminal or not)',
              content: jsonContent('TransactionView'),
            },
            '400': problemResponse('Malformed id or `wait`'),
            '404': problemResponse('No such transaction'),
            '503': problemResponse('Retry'),
            ...commonErrors,
          },
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildDocument>;

const documents = new WeakMap<ParticipantRegistry, OpenApiDocument>();

/** The document of a deployment's participants, built once per process. */
export function openApiDocument(registry: ParticipantRegistry): OpenApiDocument {
  let document = documents.get(registry);
  if (!document) {
    document = buildDocument(registry);
    documents.set(registry, document);
  }
  return document;
}
