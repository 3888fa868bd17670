import { describe, expect, it } from 'vitest';
import { parseMeterLine, usageOf } from '../../../dev/bench/meter-lines';
import type { MeterLine } from '../../../shared/metering';

const line = (fn: string, requests: Record<string, number>, extra: Partial<MeterLine> = {}): MeterLine => ({
  fn,
  billedMs: 10,
  memoryMb: 512,
  requests,
  readUnits: 0,
  writeUnits: 0,
  units: {},
  events: 0,
  ...extra,
});

describe('meter lines', () => {
  it('are found raw or inside Lambda JSON log lines, and other lines are ignored', () => {
    const raw = JSON.stringify({ tandemMeter: line('api', { 'Lambda:Invoke': 1 }) });
    expect(parseMeterLine(raw)?.fn).toBe('api');
    expect(parseMeterLine(JSON.stringify({ level: 'INFO', message: raw }))?.fn).toBe('api');
    expect(parseMeterLine('START RequestId: 1 Version: $LATEST')).toBeUndefined();
    expect(parseMeterLine('{"tandemMeter": {broken')).toBeUndefined();
  });

  it('add up into a usage by request, unit and function, leaving the fixed-cost sweeper out', () => {
    const usage = usageOf([
      line(
        'api',
        { 'Lambda:Invoke': 1, 'DynamoDB:PutItem': 1 },
        { writeUnits: 1, units: { 'DynamoDB:PutItem': 1 } },
      ),
      line(
        'coordinator',
        { 'Lambda:Invoke': 1, 'DynamoDB:UpdateItem (events)': 1, 'EventBridge:PutEvents (events)': 1 },
        { writeUnits: 1, units: { 'DynamoDB:UpdateItem (events)': 1 }, events: 1 },
      ),
      line('api', { 'Lambda:Invoke': 1 }),
      line('sweeper', { 'Lambda:Invoke': 1, 'DynamoDB:Query': 64 }, { readUnits: 32 }),
    ]);
    expect(usage.requests).toEqual({
      'Lambda:Invoke': 3,
      'DynamoDB:PutItem': 1,
      'DynamoDB:UpdateItem (events)': 1,
      'EventBridge:PutEvents (events)': 1,
    });
    expect(usage).toMatchObject({ readUnits: 0, writeUnits: 2, events: 1 });
    expect(usage.lambda).toEqual({
      api: { invocations: 2, billedMs: 20, memoryMb: 512 },
      coordinator: { invocations: 1, billedMs: 10, memoryMb: 512 },
    });
  });
});
