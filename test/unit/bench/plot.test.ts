import { describe, expect, it } from 'vitest';
import { escapeXml, renderLatencySvg } from '../../../dev/bench/plot';
import { summarize } from '../../../dev/bench/stats';
import type { BenchResult, RunResult, Workload } from '../../../dev/bench/types';

function run(workload: string, concurrency: number, samplesMs: number[]): RunResult {
  return {
    workload: workload as Workload,
    concurrency,
    durationMs: 1_000,
    committed: samplesMs.length,
    aborted: 0,
    failed: 0,
    throughputPerS: samplesMs.length,
    latency: summarize(samplesMs),
    samplesMs,
    usage: { requests: {}, readUnits: 0, writeUnits: 0, events: 0, lambda: {} },
  };
}

const result: BenchResult = {
  startedAt: '2026-11-26T10:00:00Z',
  machine: { cpus: 2, cpuModel: 'cpu', memoryGiB: 8, node: 'v20', os: 'linux', emulator: 'emu <1> & "2"' },
  runs: [
    run('two-phase', 1, [120, 130, 400]),
    run('two-phase', 8, [150, 160, 900]),
    run('two-phase', 32, [300, 320, 2500]),
    run('one-phase', 1, [40, 45, 90]),
    run('one-phase', 32, [60, 70, 300]),
    run('direct', 1, [25, 30, 60]),
    run('direct', 8, []), // committed nothing: no point
  ],
  hop: {
    chains: 0,
    hopsPerChain: 0,
    hopMs: summarize([]),
    usage: { requests: {}, readUnits: 0, writeUnits: 0, events: 0, lambda: {} },
  },
  coldStarts: [],
};

/** Checks that every element opened is closed, in order; returns the element names seen. */
function balancedElements(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const [, closing, name, , selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[^<>]*?)?)(\/?)>/g)) {
    if (closing) {
      expect(stack.pop()).toBe(name);
    } else {
      seen.push(name as string);
      if (!selfClosing) stack.push(name as string);
    }
  }
  expect(stack).toEqual([]);
  return seen;
}

describe('renderLatencySvg', () => {
  const svg = renderLatencySvg(result);

  it('is one balanced svg element', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(balancedElements(svg).filter((name) => name === 'svg')).toHaveLength(1);
    // Every '<' and '&' is markup or an entity.
    expect(svg.replace(/<\/?[a-zA-Z][^<>]*>/g, '')).not.toMatch(/<|&(?!amp;|lt;|gt;|quot;|apos;)/);
  });

  it('draws a p50 and a p99 path per workload', () => {
    const p50 = [...svg.matchAll(/<path class="p50" data-workload="([^"]+)" d="([^"]+)"/g)];
    expect(p50.map((m) => m[1])).toEqual(['two-phase', 'one-phase', 'direct']);
    expect(svg.match(/<path class="p99"/g)).toHaveLength(3);
    // Three concurrencies for two-phase: a move and two line segments.
    expect(p50[0]?.[2]).toMatch(/^M[\d.]+ [\d.]+ L[\d.]+ [\d.]+ L[\d.]+ [\d.]+$/);
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  it('puts higher latency higher up the plot', () => {
    const p50 = [...svg.matchAll(/<path class="p50" data-workload="[^"]+" d="M[\d.]+ ([\d.]+)/g)];
    const firstY = p50.map((m) => Number(m[1]));
    // At concurrency 1: two-phase 130 ms, one-phase 45 ms, direct 30 ms (SVG y grows downwards).
    expect(firstY[0]).toBeLessThan(firstY[1]!);
    expect(firstY[1]).toBeLessThan(firstY[2]!);
  });

  it('labels the axes with the concurrencies and log ticks, and has a legend and a title', () => {
    for (const c of [1, 8, 32]) expect(svg).toContain(`>${c}</text>`);
    for (const tick of [10, 20, 50, 100, 1000]) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain('latency, ms (log scale)');
    expect(svg).toContain('Tandem: end-to-end latency by concurrency');
    expect(svg).toContain('>p99</text>');
  });

  it('escapes text', () => {
    expect(svg).toContain('emu &lt;1&gt; &amp; &quot;2&quot;');
    const odd = renderLatencySvg({ ...result, runs: [run('<b>&x', 1, [10, 20, 30])] });
    expect(odd).toContain('data-workload="&lt;b&gt;&amp;x"');
    expect(odd).toContain('>&lt;b&gt;&amp;x</text>');
    expect(odd).not.toContain('<b>');
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });

  it('gives the same text for the same result', () => {
    expect(renderLatencySvg(structuredClone(result))).toBe(svg);
  });

  it('says so when nothing committed', () => {
    const empty = renderLatencySvg({ ...result, runs: [run('two-phase', 1, [])] });
    expect(empty).toContain('no committed transfers');
    expect(empty).not.toContain('<path');
    balancedElements(empty);
  });
});
