/** Plain JSON data: what protocol records are made of, so they can be stored as DynamoDB items. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Own-property lookup in a JSON map. Plain `map[key]` would find `Object.prototype` members
 * (`constructor`, `toString`), and `constructor` is a perfectly valid participant id.
 */
export function ownEntry<V>(map: { readonly [key: string]: V }, key: string): V | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as { readonly [key: string]: JsonValue })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
  return `{${entries.join(',')}}`;
}
