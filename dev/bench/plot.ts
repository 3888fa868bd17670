import type { BenchResult, RunResult } from './types';

const WIDTH = 800;
const HEIGHT = 420;
/** The plot area; the legend sits to its right. */
const LEFT = 70;
const RIGHT = 620;
const TOP = 60;
const BOTTOM = 360;

const KNOWN_ORDER = ['two-phase', 'one-phase', 'direct', 'https'];
const COLOURS: Readonly<Record<string, string>> = {
  'two-phase': '#1f77b4',
  'one-phase': '#ff7f0e',
  direct: '#2ca02c',
  https: '#d62728',
};
const SPARE_COLOURS = ['#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Text and attribute values safe inside SVG. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Coordinates with one decimal: enough for the eye, and the same text on every run. */
const n = (x: number) => x.toFixed(1);

function tickLabel(v: number): string {
  return v >= 1 ? String(Math.round(v)) : String(Number(v.toPrecision(2)));
}

interface Series {
  readonly workload: string;
  readonly colour: string;
  /** [concurrency, p50, p99], by concurrency; only runs that committed something. */
  readonly points: readonly (readonly [number, number, number])[];
}

function seriesOf(runs: readonly RunResult[]): Series[] {
  const workloads = [...new Set(runs.map((r) => String(r.workload)))].sort((a, b) => {
    const ia = KNOWN_ORDER.indexOf(a);
    const ib = KNOWN_ORDER.indexOf(b);
    if (ia !== ib) return (ia < 0 ? KNOWN_ORDER.length : ia) - (ib < 0 ? KNOWN_ORDER.length : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  let spare = 0;
  return workloads.map((workload) => {
    const byConcurrency = new Map<number, readonly [number, number, number]>();
    for (const r of runs) {
      if (String(r.workload) !== workload || r.committed <= 0 || r.latency.p50 <= 0) continue;
      if (!byConcurrency.has(r.concurrency)) {
        byConcurrency.set(r.concurrency, [
          r.concurrency,
          r.latency.p50,
          Math.max(r.latency.p99, r.latency.p50),
        ]);
      }
    }
    const colour = COLOURS[workload] ?? (SPARE_COLOURS[spare++ % SPARE_COLOURS.length] as string);
    return { workload, colour, points: [...byConcurrency.values()].sort((a, b) => a[0] - b[0]) };
  });
}

/** Whole decades of a log scale around `values`: the lowest and highest exponents of 10. */
function decadesOf(values: readonly number[]): readonly [number, number] {
  const loExp = Math.floor(Math.log10(Math.min(...values)));
  let hiExp = Math.ceil(Math.log10(Math.max(...values)));
  if (hiExp <= loExp) hiExp = loExp + 1;
  return [loExp, hiExp];
}

/**
 * A log-scale y axis over whole decades around `values`: its grid and ticks at 1, 2 and 5 of each
 * decade pushed onto `out`; returns where a value sits.
 */
function logYAxis(values: readonly number[], out: string[]): (v: number) => number {
  const [loExp, hiExp] = decadesOf(values);
  const y = (v: number) => BOTTOM - ((Math.log10(v) - loExp) / (hiExp - loExp)) * (BOTTOM - TOP);
  for (let e = loExp; e <= hiExp; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (e === hiExp && m > 1) break;
      const yv = n(y(v));
      out.push(
        `<line x1="${LEFT}" y1="${yv}" x2="${RIGHT}" y2="${yv}" stroke="${m === 1 ? '#cccccc' : '#eeeeee'}"/>`,
        `<text x="${LEFT - 6}" y="${yv}" text-anchor="end" dominant-baseline="middle">${tickLabel(v)}</text>`,
      );
    }
  }
  return y;
}

/** The frame, title and axis names of a plot, as the latency plot draws them. */
function frame(title: string, subtitle: string, xLabel: string, yLabel: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">${escapeXml(`${title}: ${subtitle}`)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${WIDTH / 2}" y="42" text-anchor="middle" fill="#555555">${escapeXml(subtitle)}</text>`,
    `<text x="${(LEFT + RIGHT) / 2}" y="${BOTTOM + 40}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="18" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(TOP + BOTTOM) / 2})">${escapeXml(yLabel)}</text>`,
  ];
}

/** One curve of a line plot: its name in the legend, its points [x, y], drawn solid or dashed. */
export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** Series of one group share a colour (e.g. a run's p50 and p99); by default its own name. */
  readonly group?: string;
}

export interface LinePlot {
  readonly title: string;
  readonly subtitle: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
}

/**
 * Curves as a self-contained SVG (800×420, no fonts or scripts fetched), both axes on a log scale:
 * x ticks at the points' x values, y over whole decades; one colour per group, a dashed curve
 * lighter. Points that are not positive and finite are left out. The same plot gives the same text.
 */
export function renderLinePlot(plot: LinePlot): string {
  const series = plot.series
    .map((s) => ({ ...s, points: s.points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x * y)) }))
    .filter((s) => s.points.length > 0);
  const out = frame(plot.title, plot.subtitle, plot.xLabel, plot.yLabel);
  out.push(
    `<rect x="${LEFT}" y="${TOP}" width="${RIGHT - LEFT}" height="${BOTTOM - TOP}" fill="none" stroke="#333333"/>`,
  );
  if (series.length === 0) {
    out.push(
      `<text x="${(LEFT + RIGHT) / 2}" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" fill="#555555">no points</text>`,
      '</svg>',
    );
    return `${out.join('\n')}\n`;
  }
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const y = logYAxis(
    series.flatMap((s) => s.points.map(([, v]) => v)),
    out,
  );
  // Half a tick's room at each end, so the first and last points sit inside the frame.
  const [loX, hiX] = [Math.log10(xs[0]!), Math.log10(xs[xs.length - 1]!)];
  const padX = hiX > loX ? (hiX - loX) / (2 * xs.length) : 0.5;
  const x = (v: number) => LEFT + ((Math.log10(v) - loX + padX) / (hiX - loX + 2 * padX)) * (RIGHT - LEFT);
  for (const v of xs) {
    out.push(
      `<line x1="${n(x(v))}" y1="${BOTTOM}" x2="${n(x(v))}" y2="${BOTTOM + 5}" stroke="#333333"/>`,
      `<text x="${n(x(v))}" y="${BOTTOM + 18}" text-anchor="middle">${tickLabel(v)}</text>`,
    );
  }
  const groups = [...new Set(series.map((s) => s.group ?? s.name))];
  const colourOf = (s: LineSeries) => LINE_COLOURS[groups.indexOf(s.group ?? s.name) % LINE_COLOURS.length]!;
  // The legend in a smaller font: a line plot's names are longer than the workloads'.
  const legendX = RIGHT + 12;
  series.forEach((s, index) => {
    const colour = colourOf(s);
    const stroke = s.dashed
      ? `stroke="${colour}" stroke-width="1.5" stroke-opacity="0.55" stroke-dasharray="6 4"`
      : `stroke="${colour}" stroke-width="2.5"`;
    const d = s.points.map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${n(x(px))} ${n(y(py))}`).join(' ');
    out.push(`<path data-series="${escapeXml(s.name)}" d="${d}" fill="none" ${stroke}/>`);
    for (const [px, py] of s.points)
      out.push(`<circle cx="${n(x(px))}" cy="${n(y(py))}" r="${s.dashed ? 2.5 : 3}" fill="${colour}"/>`);
    const legendY = TOP + 10 + index * 20;
    out.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 20}" y2="${legendY}" ${stroke}/>`,
      `<text x="${legendX + 25}" y="${legendY}" dominant-baseline="middle" font-size="10">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The line plot's colours: the workloads' known ones first, then the spares. */
const LINE_COLOURS = [...Object.values(COLOURS), ...SPARE_COLOURS];

/**
 * End-to-end latency against concurrency as a self-contained SVG (800×420, no fonts or scripts
 * fetched): concurrency as evenly spaced categories, latency on a log scale, one colour per
 * workload with p50 solid and p99 dashed and lighter. The same result gives the same text.
 */
export function renderLatencySvg(result: BenchResult): string {
  const series = seriesOf(result.runs).filter((s) => s.points.length > 0);
  const concurrencies = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const values = series.flatMap((s) => s.points.flatMap((p) => [p[1], p[2]]));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">${escapeXml(
      `Tandem end-to-end latency (p50 and p99, ms) by concurrency, per workload: ${series.map((s) => s.workload).join(', ')}`,
    )}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(
      'Tandem: end-to-end latency by concurrency',
    )}</text>`,
    `<text x="${WIDTH / 2}" y="42" text-anchor="middle" fill="#555555">${escapeXml(
      `p50 solid, p99 dashed · ${result.startedAt} · ${result.machine.emulator}`,
    )}</text>`,
  ];

  if (concurrencies.length === 0 || values.length === 0) {
    out.push(
      `<rect x="${LEFT}" y="${TOP}" width="${RIGHT - LEFT}" height="${BOTTOM - TOP}" fill="none" stroke="#333333"/>`,
      `<text x="${(LEFT + RIGHT) / 2}" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" fill="#555555">no committed transfers</text>`,
      '</svg>',
    );
    return `${out.join('\n')}\n`;
  }

  const y = logYAxis(values, out);
  const slot = (RIGHT - LEFT) / concurrencies.length;
  const x = (c: number) => LEFT + (concurrencies.indexOf(c) + 0.5) * slot;

  for (const c of concurrencies) {
    const xc = n(x(c));
    out.push(
      `<line x1="${xc}" y1="${BOTTOM}" x2="${xc}" y2="${BOTTOM + 5}" stroke="#333333"/>`,
      `<text x="${xc}" y="${BOTTOM + 18}" text-anchor="middle">${c}</text>`,
    );
  }
  out.push(
    `<rect x="${LEFT}" y="${TOP}" width="${RIGHT - LEFT}" height="${BOTTOM - TOP}" fill="none" stroke="#333333"/>`,
    `<text x="${(LEFT + RIGHT) / 2}" y="${BOTTOM + 40}" text-anchor="middle">concurrency (closed-loop clients)</text>`,
    `<text x="18" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(TOP + BOTTOM) / 2})">latency, ms (log scale)</text>`,
  );

  // One p99 (dashed, lighter) and one p50 (solid) line per workload, with markers.
  for (const s of series) {
    const name = escapeXml(s.workload);
    const path = (i: 1 | 2) =>
      s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${n(x(p[0]))} ${n(y(p[i]))}`).join(' ');
    out.push(
      `<path class="p99" data-workload="${name}" d="${path(2)}" fill="none" stroke="${s.colour}" stroke-width="1.5" stroke-opacity="0.55" stroke-dasharray="6 4"/>`,
      `<path class="p50" data-workload="${name}" d="${path(1)}" fill="none" stroke="${s.colour}" stroke-width="2.5"/>`,
    );
    for (const [c, p50, p99] of s.points) {
      out.push(
        `<circle cx="${n(x(c))}" cy="${n(y(p99))}" r="2.5" fill="#ffffff" stroke="${s.colour}" stroke-opacity="0.55"/>`,
        `<circle cx="${n(x(c))}" cy="${n(y(p50))}" r="3" fill="${s.colour}"/>`,
      );
    }
  }

  // Legend: a swatch per workload, then the two line styles.
  const legendX = RIGHT + 20;
  let legendY = TOP + 10;
  for (const s of series) {
    out.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 24}" y2="${legendY}" stroke="${s.colour}" stroke-width="2.5"/>`,
      `<text x="${legendX + 30}" y="${legendY}" dominant-baseline="middle">${escapeXml(s.workload)}</text>`,
    );
    legendY += 20;
  }
  legendY += 6;
  out.push(
    `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 24}" y2="${legendY}" stroke="#333333" stroke-width="2.5"/>`,
    `<text x="${legendX + 30}" y="${legendY}" dominant-baseline="middle">p50</text>`,
    `<line x1="${legendX}" y1="${legendY + 20}" x2="${legendX + 24}" y2="${legendY + 20}" stroke="#333333" stroke-width="1.5" stroke-opacity="0.55" stroke-dasharray="6 4"/>`,
    `<text x="${legendX + 30}" y="${legendY + 20}" dominant-baseline="middle">p99</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
