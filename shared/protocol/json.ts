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
