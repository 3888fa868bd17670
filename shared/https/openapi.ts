import * as z from 'zod';
import {
  Done,
  FinishBody,
  HEADERS,
  type Phase,
  REFUSALS,
  Refusal,
  SIGNATURE_MAX_AGE_MS,
  TryBody,
} from './contract';

/**
 * The OpenAPI 3.1 document of the HTTPS participant contract: what an endpoint serves and Tandem's
 * relay calls. Bodies come from the contract's zod schemas (`z.toJSONSchema`), so the document
 * cannot drift from the code: docs/https-participant.openapi.json is this function's output
 * (`npm run openapi:https` writes it; a unit test checks it).
 */

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schemas of `schemas` as OpenAPI 3.1 components. A schema's own definitions (`$defs`, as
 * `z.json()`'s recursion makes) are hoisted beside it, since a component's `#/$defs/…` reference
 * would resolve against the document's root; the JSON-value definition is named `JsonValue`.
 */
function componentsOf(schemas: Readonly<Record<string, z.ZodType>>): Record<string, JsonSchema> {
  const components: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const {
      $schema: _dialect,
      $defs,
      ...main
    } = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    const names = new Map<string, string>();
    for (const [def, body] of Object.entries($defs ?? {})) {
      names.set(def, isJsonValue(body) ? 'JsonValue' : `${name}_${def.replace(/^_+/, '')}`);
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => {
          if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
            return [key, `#/components/schemas/${names.get(inner.slice('#/$defs/'.length))}`];
          }
          return [key, rewrite(inner)];
        }),
      );
    };
    components[name] = rewrite(main) as JsonSchema;
    for (const [def, body] of Object.entries($defs ?? {})) {
      const target = names.get(def)!;
      components[target] = rewrite(
        target === 'JsonValue' ? { description: 'Any JSON value', ...body } : body,
      ) as JsonSchema;
    }
  }
  return components;
}

/** `z.json()`'s definition: any of string, number, boolean, null, array, object. */
function isJsonValue(schema: JsonSchema): boolean {
  const types = ((schema.anyOf as JsonSchema[] | undefined) ?? []).map((branch) => branch.type);
  return ['string', 'number', 'boolean', 'null', 'array', 'object'].every((type) => types.includes(type));
}

const Problem = z
  .object({
    type: z
      .string()
      .meta({ description: 'urn:tandem:problem:<slug>, e.g. `invalid-signature`, `replayed-signature`' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'A 400: each issue of the body' }),
  })
  .meta({ description: 'An RFC 9457 problem document' });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const SUMMARY: Readonly<Record<Phase, string>> = {
  try: 'Check and reserve a branch of a transaction (Prepare): 200 votes YES, 409 votes NO',
  confirm: 'Make the reserved branch final (Commit), after every participant voted YES',
  cancel: 'Release the branch (Abort); before any try, remember it so that a later try answers 409',
};

const DESCRIPTION: Readonly<Record<Phase, string>> = {
  try: 'Idempotent per (transactionId, branch): a duplicate answers what the first try answered and reserves nothing more. A try after a cancel of the same branch answers 409 and reserves nothing.',
  confirm:
    'Sent only after this branch answered 200 to its try and every other branch voted YES. Never refused: repeat the 200 for a duplicate; answer 425, 429 or 5xx to be called again later. A confirm of a cancelled branch must not answer 200.',
  cancel:
    'Sent when the transaction aborts, possibly before (or without) any try of this branch: remember it, so that a later try answers 409. Never refused: repeat the 200 for a duplicate. A cancel of a confirmed branch must not answer 200.',
};

function operation(phase: Phase) {
  const responses: Record<string, unknown> = {
    '200': {
      description: phase === 'try' ? 'YES: the branch is reserved' : `Done (${phase}ed, or already)`,
      content: { 'application/json': { schema: ref('Done') } },
    },
  };
  if (phase === 'try') {
    responses['409'] = {
      description: 'NO, for good: nothing is reserved (the same answer to every duplicate)',
      content: { 'application/json': { schema: ref('Refusal') } },
    };
  }
  Object.assign(responses, {
    [REFUSALS.malformed]: problem(
      'The body is malformed, is not the call of this path, or names another branch',
    ),
    [REFUSALS.unauthenticated]: problem(
      'Unsigned, badly signed, expired or replayed: refused without effect (never 409, which on a try is a NO)',
    ),
    [REFUSALS.tooLarge]: problem('The body is too large'),
    '425': { description: 'Too early: the relay calls again later (Retry-After is honoured)' },
    '429': { description: 'Too many calls: the relay calls again later (Retry-After is honoured)' },
    [REFUSALS.protocolViolation]: problem(
      phase === 'try'
        ? 'The call failed; the relay calls again later'
        : `The ${phase} contradicts what the branch already did (a bug on the caller's side), or failed; the relay calls again later`,
    ),
    [REFUSALS.unavailable]: problem(
      'The endpoint cannot serve it now (Retry-After): the relay calls again later',
    ),
  });
  return {
    operationId: phase,
    summary: SUMMARY[phase],
    description: DESCRIPTION[phase],
    parameters: [
      { $ref: '#/components/parameters/Timestamp' },
      { $ref: '#/components/parameters/Signature' },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: ref(phase === 'try' ? 'TryBody' : `${capital(phase)}Body`) } },
    },
    responses,
  };
}

const capital = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}`;

/** The document. */
export function httpsParticipantOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tandem HTTPS participant',
      version: '1',
      description: [
        "The contract between Tandem's relay and a participant that is an HTTPS endpoint: the coordinator's Prepare, Commit and Abort become POST {base}/try, {base}/confirm and {base}/cancel.",
        '',
        '200 means done (on a try: YES). 409 on a try means NO, for good, with a reason. Any other answer, or none (a timeout, a refused connection), means "not done": the relay calls again later, signed afresh, within its budget; a try that is never answered counts as a NO.',
        '',
        'Every call is idempotent per (transactionId, branch). A cancel may come before its try: remember it, and answer the later try 409 without reserving anything. A branch ends once: confirmed or cancelled, never both.',
        '',
        `Every call is signed: ${HEADERS.signature}: v1=<hex HMAC-SHA256(secret, "POST\\n" + path with query + "\\n" + ${HEADERS.timestamp} + "\\n" + body)>. The endpoint checks it against its current secret and, during a rotation, the previous one; refuses calls signed more than ${SIGNATURE_MAX_AGE_MS / 1000} s away from its clock; and remembers each signature it accepted until then, refusing it when it comes again (a replay). Refusals answer 401.`,
      ].join('\n'),
    },
    servers: [
      {
        url: '{base}',
        description: "The participant's base URL, as registered with Tandem",
        variables: { base: { default: 'https://participant.example.com/tandem' } },
      },
    ],
    paths: {
      '/try': { post: operation('try') },
      '/confirm': { post: operation('confirm') },
      '/cancel': { post: operation('cancel') },
    },
    components: {
      parameters: {
        Timestamp: {
          name: HEADERS.timestamp,
          in: 'header',
          required: true,
          description: 'When the relay signed the call: milliseconds since the Unix epoch',
          schema: { type: 'string', pattern: '^\\d{1,16}$' },
        },
        Signature: {
          name: HEADERS.signature,
          in: 'header',
          required: true,
          description: `v1=<64 lower-case hex digits>: HMAC-SHA256 with the shared secret over "METHOD\\npath\\n${HEADERS.timestamp}\\nbody"`,
          schema: { type: 'string', pattern: '^v1=[0-9a-f]{64}$' },
        },
      },
      schemas: componentsOf({
        TryBody,
        ConfirmBody: FinishBody.extend({ phase: z.literal('confirm') }),
        CancelBody: FinishBody.extend({ phase: z.literal('cancel') }),
        Done,
        Refusal,
        Problem,
      }),
    },
  };
}

/** The document as docs/https-participant.openapi.json holds it. */
export function httpsParticipantOpenApiText(): string {
  return `${JSON.stringify(httpsParticipantOpenApi(), null, 2)}\n`;
}
