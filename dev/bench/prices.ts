/** The unit prices of `bench/prices.json`, read and checked. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The price table the repository keeps, `bench/prices.json`. */
const DEFAULT_PRICES_PATH = resolve(import.meta.dirname, '..', '..', 'bench', 'prices.json');

/** The unit prices the cost model needs; each is one entry of `prices` in `bench/prices.json`. */
export const PRICE_ITEMS = [
  'dynamodbWriteRequestUnit',
  'dynamodbReadRequestUnit',
  'sqsStandardRequest',
  'sqsFifoRequest',
  'lambdaRequest',
  'lambdaArm64GbSecond',
  'apiGatewayHttpRequest',
  'eventBridgeCustomEvent',
  'stepFunctionsStateTransition',
] as const;

export type PriceItem = (typeof PRICE_ITEMS)[number];

/** USD for one unit of each item (the file gives `usd` per `per` units; this is usd / per). */
export type UnitPrices = Readonly<Record<PriceItem, number>>;

export interface PriceTable {
  readonly region: string;
  /** The day the prices were last checked against the published pages, YYYY-MM-DD. */
  readonly checked: string;
  readonly currency: 'USD';
  readonly source: readonly string[];
  readonly notes: readonly string[];
  readonly unitPrices: UnitPrices;
  /** What one unit of each item is, as the file words it. */
  readonly units: Readonly<Record<PriceItem, string>>;
}

function fail(origin: string, field: string, problem: string, value: unknown): never {
  throw new Error(`${origin}: ${field} ${problem}, got ${JSON.stringify(value) ?? String(value)}`);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function stringList(origin: string, field: string, value: unknown, nonEmpty: boolean): string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || s === '')) {
    fail(origin, field, 'must be a list of non-empty strings', value);
  }
  if (nonEmpty && value.length === 0) fail(origin, field, 'must name at least one entry', value);
  return value as string[];
}

/**
 * A price table from parsed JSON, checked field by field: a wrong or missing field throws an
 * Error naming it (`prices.sqsFifoRequest.usd must be a non-negative number, got "0.5"`).
 */
export function parsePrices(raw: unknown, origin = 'price table'): PriceTable {
  if (!isRecord(raw)) fail(origin, 'the table', 'must be a JSON object', raw);
  const { region, checked, currency, source, notes, prices } = raw;
  if (typeof region !== 'string' || region === '')
    fail(origin, 'region', 'must be a non-empty string', region);
  if (typeof checked !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(checked)) {
    fail(origin, 'checked', 'must be a date YYYY-MM-DD', checked);
  }
  if (currency !== 'USD') fail(origin, 'currency', 'must be "USD"', currency);
  const sources = stringList(origin, 'source', source, true);
  const noteList = stringList(origin, 'notes', notes, false);
  if (!isRecord(prices)) fail(origin, 'prices', 'must be an object', prices);
  const unitPrices: Partial<Record<PriceItem, number>> = {};
  const units: Partial<Record<PriceItem, string>> = {};
  for (const item of PRICE_ITEMS) {
    const entry = prices[item];
    if (!isRecord(entry)) fail(origin, `prices.${item}`, 'must be an object { usd, per, unit }', entry);
    const { usd, per, unit } = entry;
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
      fail(origin, `prices.${item}.usd`, 'must be a non-negative number', usd);
    }
    if (typeof per !== 'number' || !Number.isFinite(per) || per <= 0) {
      fail(origin, `prices.${item}.per`, 'must be a positive number', per);
    }
    if (typeof unit !== 'string' || unit === '')
      fail(origin, `prices.${item}.unit`, 'must be a non-empty string', unit);
    unitPrices[item] = usd / per;
    units[item] = unit;
  }
  return {
    region,
    checked,
    currency: 'USD',
    source: sources,
    notes: noteList,
    unitPrices: unitPrices as UnitPrices,
    units: units as Record<PriceItem, string>,
  };
}

/** Reads and checks the price table (default `bench/prices.json`). */
export function loadPrices(path: string = DEFAULT_PRICES_PATH): PriceTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the price table ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parsePrices(json, path);
}
