import * as z from 'zod';
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

const TxStateSchema = z.enum(['PENDING', 'PREPARING', 'COMMITTING', 'COMMITTED', 'ABORTING', 'ABORTED']);
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

export const EntityOpSchema = z
  .strictObject({ id: Identifier, action: z.enum(['take', 'give']), amount: MinorUnits })
  .meta({
    description:
      'An operation as the participant runs it: `take` holds then removes (ledger debit, inventory reserve), `give` adds (ledger credit, inventory release). `id` is the account id or sku.',
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
      id: z.string().meta({ description: '`ledger-<shard>` or `inventory`' }),
      kind: z.string(),
      operations: z.array(EntityOpSchema),
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
      'Accepted: the transaction is durably recorded and will be driven to COMMITTED or ABORTED. Also answered if enqueueing `Begin` failed: the sweeper starts the transaction at its next check time.',
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
    'An account or sku does not exist (all unknown ones are named). Nothing was written.',
  ),
  '503': problemResponse('A dependency failed or throttled; retry (with the same idempotency key).'),
};

const commonErrors = { '500': problemResponse('Unexpected failure; safe to retry.') };
const sigv4 = [{ sigv4: [] }];

function buildDocument() {
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
            'Shorthand for a transaction with a ledger debit of `from` and a ledger credit of `to`. `from` must differ from `to` (400).',
        },
        TransactionRequest: {
          ...schemaOf(TransactionRequest, 'input'),
          description: `1–${OPERATIONS_MAX} operations. Also checked (400): at most one operation per account or sku. Ledger debits and credits need not balance (a checkout may only debit the buyer). An unknown \`participant\` fails the schema (400).`,
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
          summary: 'Run ledger and inventory operations as one atomic transaction',
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

let document: OpenApiDocument | undefined;

/** The document, built once per process. */
export function openApiDocument(): OpenApiDocument {
  document ??= buildDocument();
  return document;
}
