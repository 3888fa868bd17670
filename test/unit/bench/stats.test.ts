import { describe, expect, it } from 'vitest';
import { addUsage, EMPTY_USAGE, scaleUsage, summarize, totalRequests } from '../../../dev/bench/stats';
import type { Usage } from '../../../dev/bench/types';

describe('summarize', () => {
  it('gives all zeros with count 0 for no samples', () => {
    expect(summarize([])).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });

  it('takes nearest-rank percentiles of 1..100', () => {
    // Prepare: 100 samples in reverse order.
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    // Act
    const s = summarize(samples);
    // Assess
    expect(s).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    expect(samples[0]).toBe(100); // the input is not sorted in place
  });

  it('rounds the rank up on small arrays', () => {
    // Ranks: p50 → ceil(1.5) = 2, p95 and p99 → 3.
    expect(summarize([5, 1, 3])).toMatchObject({ count: 3, p50: 3, p95: 5, p99: 5, max: 5, mean: 3 });
    expect(summarize([7])).toMatchObject({ p50: 7, p95: 7, p99: 7, max: 7, mean: 7 });
    // Ten samples: p95 → rank 10, p50 → rank 5.
    expect(summarize([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000])).toMatchObject({ p50: 50, p95: 1000 });
  });

  it('refuses samples that are not numbers', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(/finite/);
  });
});

const a: Usage = {
  requests: { 'SQS:SendMessage': 2, 'DynamoDB:GetItem (wait)': 1 },
  readUnits: 1,
  writeUnits: 4,
  events: 1,
  lambda: { api: { invocations: 1, billedMs: 100, memoryMb: 512 } },
};
const b: Usage = {
  requests: { 'SQS:SendMessage': 3, 'Lambda:Invoke': 2 },
  readUnits: 0.5,
  writeUnits: 2,
  events: 0,
  lambda: {
    api: { invocations: 3, billedMs: 300, memoryMb: 1024 },
    coordinator: { invocations: 2, billedMs: 50, memoryMb: 256 },
  },
};

describe('addUsage', () => {
  it('adds requests by key, units, events and functions', () => {
    const sum = addUsage(a, b);
    expect(sum.requests).toEqual({ 'SQS:SendMessage': 5, 'DynamoDB:GetItem (wait)': 1, 'Lambda:Invoke': 2 });
    expect(sum.readUnits).toBe(1.5);
    expect(sum.writeUnits).toBe(6);
    expect(sum.events).toBe(1);
    expect(sum.lambda.coordinator).toEqual({ invocations: 2, billedMs: 50, memoryMb: 256 });
    expect(sum.lambda.api?.invocations).toBe(4);
    expect(sum.lambda.api?.billedMs).toBe(400);
  });

  it('keeps the GB-seconds when one function was metered at two memory sizes', () => {
    const api = addUsage(a, b).lambda.api!;
    // 100 ms × 512 MB + 300 ms × 1024 MB = 358,400 MB·ms over 400 ms.
    expect(api.memoryMb).toBe(896);
    expect(api.billedMs * api.memoryMb).toBe(100 * 512 + 300 * 1024);
  });

  it('has EMPTY_USAGE as its identity', () => {
    expect(addUsage(EMPTY_USAGE, a)).toEqual(a);
    expect(addUsage(a, EMPTY_USAGE)).toEqual(a);
  });
});

describe('scaleUsage', () => {
  it('divides every count but not the memory size', () => {
    const perTransfer = scaleUsage(b, 1 / 4);
    expect(perTransfer.requests).toEqual({ 'SQS:SendMessage': 0.75, 'Lambda:Invoke': 0.5 });
    expect(perTransfer.readUnits).toBe(0.125);
    expect(perTransfer.writeUnits).toBe(0.5);
    expect(perTransfer.lambda.api).toEqual({ invocations: 0.75, billedMs: 75, memoryMb: 1024 });
  });

  it('refuses a factor that is not a finite, non-negative number', () => {
    expect(() => scaleUsage(a, 1 / 0)).toThrow(/factor/);
    expect(() => scaleUsage(a, -1)).toThrow(/factor/);
  });
});

describe('totalRequests', () => {
  it('sums all requests, or those the filter keeps', () => {
    const requests = { 'SQS:SendMessage': 5, 'DynamoDB:GetItem (wait)': 2, 'Lambda:Invoke': 3 };
    expect(totalRequests(requests)).toBe(10);
    expect(totalRequests(requests, (key) => key.endsWith('(wait)'))).toBe(8);
    expect(totalRequests({})).toBe(0);
  });
});
