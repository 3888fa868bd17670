import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as z from 'zod';
import { ConfigurationError, type FieldIssue, ValidationError } from './errors';
import { parseCounterSpec } from './participant/counter';
import type { CounterSpec } from './participant/counter-spec';
import type { ParticipantDefinition } from './participant/definition';
import type { JsonValue } from './protocol';
import { bucketOf } from './protocol/hash';
import { parseOrThrow } from './schemas';

/**
 * The participants of a deployment, as the API knows them: fixed at synth by the `Tandem` construct
 * (from each participant's definition) and read by the API at cold start. It is what lets the API
 * validate a transaction's operations against each participant's own schema — a 400 naming the
 * field, before anything is written — route each operation to its participant (and shard), and
 * describe the operations in the OpenAPI document. Adding a participant of a new kind changes this
 * data, never Tandem's source.
 */

/** JSON Schema (2020-12) of one operation, without its `participant` field. */
export type JsonSchema = { readonly [key: string]: JsonValue };

export interface ParticipantSpec {
  /** The name operations use (`operations[].participant`), e.g. `ledger`, `seats`. */
  readonly name: string;
  /** What a client may send as one operation of this participant (without `participant`). */
  readonly operation: JsonSchema;
  /**
   * Shards: participants `<name>-0` … `<name>-<count − 1>`, an operation going to the one its
   * `key` field hashes to (FNV-1a, like leader slots). Absent: one participant with id `name`.
   */
  readonly shards?: { readonly count: number; readonly key: string };
  /** Fields naming the item an operation touches: two operations on one item are a 400. */
  readonly itemKey?: readonly string[];
  /** A counter (shared/participant/counter.ts): entities are checked, one phase is possible. */
  readonly counter?: CounterSpec;
}

/** Most shards of one participant. */
export const SHARDS_MAX = 32;

const FieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a field name');
const ParticipantName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,47}$/, 'must be 1–48 characters: a lower-case letter, then a-z 0-9 -');

const ParticipantSpecSchema = z.strictObject({
  name: ParticipantName,
  operation: z.record(z.string(), z.json()),
  shards: z.strictObject({ count: z.number().int().min(1).max(SHARDS_MAX), key: FieldName }).optional(),
  itemKey: z.array(FieldName).min(1).max(8).optional(),
  counter: z.unknown().optional(),
});

/** The participant id of shard `shard` of `name`. */
const shardId = (name: string, shard: number) => `${name}-${shard}`;

/** Every participant id of a spec: `name`, or one per shard. */
export function participantIdsOf(spec: Pick<ParticipantSpec, 'name' | 'shards'>): string[] {
  return spec.shards
    ? Array.from({ length: spec.shards.count }, (_, shard) => shardId(spec.name, shard))
    : [spec.name];
}

/** The properties a JSON Schema object declares (top level), for checks of field names. */
function propertiesOf(schema: JsonSchema): string[] | undefined {
  const properties = schema.properties;
  return properties !== null && typeof properties === 'object' && !Array.isArray(properties)
    ? Object.keys(properties)
    : undefined;
}

/**
 * The spec of a participant `definition` deployed as `name` (shards optional): its operation
 * schema as JSON Schema (what clients send: the schema's input). Throws ConfigurationError, naming
 * what to change, for a spec that cannot work.
 */
export function participantSpec(
  name: string,
  definition: Pick<ParticipantDefinition, 'operation' | 'itemKey' | 'counter'>,
  options: { readonly shards?: number; readonly shardKey?: string } = {},
): ParticipantSpec {
  let operation: JsonSchema;
  try {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(definition.operation, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, JsonValue>;
    operation = rest;
  } catch (error) {
    throw new ConfigurationError(
      `participant '${name}': its operation schema cannot be written as JSON Schema (${(error as Error).message})`,
    );
  }
  const shardKey = options.shardKey ?? definition.counter?.idField;
  if (options.shards !== undefined && shardKey === undefined) {
    throw new ConfigurationError(
      `participant '${name}' has ${options.shards} shards but no shardKey: name the operation field that picks the shard`,
    );
  }
  return checkSpec({
    name,
    operation,
    ...(options.shards !== undefined ? { shards: { count: options.shards, key: shardKey! } } : {}),
    ...(definition.itemKey !== undefined ? { itemKey: definition.itemKey } : {}),
    ...(definition.counter !== undefined ? { counter: definition.counter } : {}),
  });
}

/** Validates one spec (ConfigurationError naming the participant and the problem). */
function checkSpec(input: unknown): ParticipantSpec {
  const name =
    input !== null && typeof input === 'object' && 'name' in input ? String(input.name) : '(unnamed)';
  let spec: ParticipantSpec;
  try {
    spec = parseOrThrow(ParticipantSpecSchema, input, `participant '${name}'`) as ParticipantSpec;
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  if (spec.counter !== undefined) {
    spec = { ...spec, counter: parseCounterSpec(spec.counter, `participant '${name}' counter`) };
  }
  const fields = propertiesOf(spec.operation);
  for (const field of [...(spec.shards ? [spec.shards.key] : []), ...(spec.itemKey ?? [])]) {
    if (fields !== undefined && !fields.includes(field)) {
      throw new ConfigurationError(
        `participant '${name}': '${field}' is not a field of its operations (they have ${fields.join(', ') || 'none'})`,
      );
    }
  }
  if (fields?.includes('participant')) {
    throw new ConfigurationError(
      `participant '${name}': its operations must not have a field 'participant' (the request's own field names the participant)`,
    );
  }
  return spec;
}

/** Checks a deployment's specs together: each valid, names unique, ids unique. */
export function checkSpecs(specs: readonly unknown[]): ParticipantSpec[] {
  const checked = specs.map(checkSpec);
  const ids = new Map<string, string>();
  for (const spec of checked) {
    for (const id of participantIdsOf(spec)) {
      const other = ids.get(id);
      if (other !== undefined) {
        throw new ConfigurationError(
          other === spec.name
            ? `participant '${spec.name}' is added twice: give each participant its own name`
            : `participant id '${id}' of '${spec.name}' is also one of '${other}': rename one of them`,
        );
      }
      ids.set(id, spec.name);
    }
  }
  return checked;
}

/**
 * The specs as the API function's environment carries them (TANDEM_PARTICIPANTS): compressed JSON,
 * since Lambda allows 4 KB for a function's whole environment and JSON Schemas compress ~4×.
 */
export function encodeSpecs(specs: readonly ParticipantSpec[]): string {
  return `deflate:${deflateRawSync(JSON.stringify(specs), { level: 9 }).toString('base64')}`;
}

/** The specs of `encodeSpecs` (or plain JSON), unchecked: the registry checks them. */
export function decodeSpecs(text: string): unknown {
  const json = text.startsWith('deflate:')
    ? inflateRawSync(Buffer.from(text.slice('deflate:'.length), 'base64')).toString('utf8')
    : text;
  try {
    return JSON.parse(json);
  } catch {
    throw new ConfigurationError('the participant specs (TANDEM_PARTICIPANTS) are not JSON');
  }
}

/** An operation as a request carries it: its participant's name and that participant's fields. */
export type Operation = { readonly participant: string } & { readonly [field: string]: JsonValue };

/** A planned operation: which participant (id) runs it, and what it gets (without `participant`). */
export interface Routed {
  readonly participantId: string;
  readonly spec: ParticipantSpec;
  readonly fields: { readonly [field: string]: JsonValue };
}

/**
 * The API's view of the deployment's participants: validates operations against their own schemas
 * and routes them. Built once at cold start.
 */
export class ParticipantRegistry {
  readonly specs: readonly ParticipantSpec[];
  private readonly byName = new Map<string, { spec: ParticipantSpec; schema: z.ZodType }>();

  constructor(specs: readonly unknown[]) {
    this.specs = checkSpecs(specs);
    for (const spec of this.specs) {
      let schema: z.ZodType;
      try {
        schema = z.fromJSONSchema(spec.operation as Parameters<typeof z.fromJSONSchema>[0]);
      } catch (error) {
        throw new ConfigurationError(
          `participant '${spec.name}': its operation schema is not JSON Schema Tandem can read (${(error as Error).message})`,
        );
      }
      this.byName.set(spec.name, { spec, schema });
    }
  }

  /** The spec named `name`, if the deployment has it. */
  spec(name: string): ParticipantSpec | undefined {
    return this.byName.get(name)?.spec;
  }

  /** Every participant id of the deployment. */
  participantIds(): string[] {
    return this.specs.flatMap(participantIdsOf);
  }

  /**
   * Validates `operations` (each `{participant, …fields}`) against their participants' schemas
   * and the one-operation-per-item rule; throws one ValidationError listing every issue by path
   * (`operations.<i>.<field>`).
   */
  validate(operations: readonly Readonly<Record<string, unknown>>[], path = 'operations'): Operation[] {
    const issues = this.issuesOf(operations, path);
    if (issues.length > 0) {
      const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new ValidationError(`transaction is invalid: ${summary}`, issues);
    }
    return operations as Operation[];
  }

  /**
   * The issues of `operations` (see validate) — of those that are objects: anything else is the
   * envelope's to report (TransactionRequest).
   */
  issuesOf(operations: readonly unknown[], path = 'operations'): FieldIssue[] {
    const issues: FieldIssue[] = [];
    const firstOnItem = new Map<string, number>();
    const known = this.specs.map((s) => s.name).join(', ');
    operations.forEach((operation, index) => {
      if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) return;
      const { participant, ...fields } = operation as Record<string, unknown>;
      const entry = typeof participant === 'string' ? this.byName.get(participant) : undefined;
      if (!entry) {
        issues.push({
          path: `${path}.${index}.participant`,
          message: `unknown participant '${String(participant)}' (this deployment has: ${known || 'none'})`,
        });
        return;
      }
      const result = entry.schema.safeParse(fields);
      if (!result.success) {
        for (const issue of result.error.issues) {
          issues.push({ path: [path, index, ...issue.path].join('.'), message: issue.message });
        }
        return;
      }
      const itemKey = entry.spec.itemKey;
      if (itemKey) {
        const item = `${entry.spec.name}\n${JSON.stringify(itemKey.map((f) => fields[f]))}`;
        const first = firstOnItem.get(item);
        if (first === undefined) firstOnItem.set(item, index);
        else {
          issues.push({
            path: `${path}.${index}.${itemKey[0]}`,
            message: `${describeItem(entry.spec, fields)} is already used by ${path}.${first}: at most one operation per ${entry.spec.counter?.entity ?? 'item'} per transaction`,
          });
        }
      }
    });
    return issues;
  }

  /** Where each (validated) operation goes: its participant id and its fields. */
  route(operation: Operation): Routed {
    const { participant, ...fields } = operation;
    const spec = this.byName.get(participant)?.spec;
    if (!spec) throw new RangeError(`unknown participant '${participant}'`);
    const participantId = spec.shards
      ? shardId(spec.name, bucketOf(String(fields[spec.shards.key]), spec.shards.count))
      : spec.name;
    return { participantId, spec, fields };
  }
}

function describeItem(spec: ParticipantSpec, fields: Readonly<Record<string, unknown>>): string {
  if (spec.counter) return `${spec.counter.entity} '${String(fields[spec.counter.idField])}'`;
  return `the ${spec.name} item ${(spec.itemKey ?? []).map((f) => `${f}=${JSON.stringify(fields[f])}`).join(', ')}`;
}
