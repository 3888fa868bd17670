/** The handlers' meter lines (shared/metering): found in a log message, and summed into a Usage. */
import { METER_LOG_KEY, type MeterLine } from '../../shared/metering';
import type { FunctionUsage, Usage } from './types';

/** Handlers whose work is a fixed cost per minute, not per transfer (reported apart). */
const FIXED_COST_FUNCTIONS = new Set(['sweeper']);

/** The meter line in a log message, raw or wrapped in Lambda's JSON log format; undefined if none. */
export function parseMeterLine(message: string): MeterLine | undefined {
  if (!message.includes(METER_LOG_KEY)) return undefined;
  const at = message.indexOf(`{"${METER_LOG_KEY}"`);
  if (at >= 0) {
    try {
      const parsed = JSON.parse(message.slice(at).trim()) as Record<string, unknown>;
      return parsed[METER_LOG_KEY] as MeterLine;
    } catch {
      return undefined;
    }
  }
  // Lambda's JSON log format carries the line, escaped, in `message`.
  try {
    const outer = JSON.parse(message) as { message?: unknown };
    return typeof outer.message === 'string' ? parseMeterLine(outer.message) : undefined;
  } catch {
    return undefined;
  }
}

/** Sums meter lines into a Usage; fixed-cost functions (the sweeper) are left out. */
export function usageOf(lines: readonly MeterLine[]): Usage {
  const requests: Record<string, number> = {};
  const unitsByRequest: Record<string, number> = {};
  const lambda: Record<string, FunctionUsage> = {};
  let readUnits = 0;
  let writeUnits = 0;
  let events = 0;
  for (const line of lines) {
    if (FIXED_COST_FUNCTIONS.has(line.fn)) continue;
    for (const [key, n] of Object.entries(line.requests)) requests[key] = (requests[key] ?? 0) + n;
    for (const [key, n] of Object.entries(line.units ?? {}))
      unitsByRequest[key] = (unitsByRequest[key] ?? 0) + n;
    readUnits += line.readUnits;
    writeUnits += line.writeUnits;
    events += line.events;
    const fn = lambda[line.fn] ?? { invocations: 0, billedMs: 0, memoryMb: line.memoryMb };
    lambda[line.fn] = {
      invocations: fn.invocations + 1,
      billedMs: fn.billedMs + line.billedMs,
      memoryMb: line.memoryMb,
    };
  }
  return { requests, unitsByRequest, readUnits, writeUnits, events, lambda };
}
