/** Text helpers of the operator CLI: durations, timestamps and aligned tables. Pure. */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * `500ms`, `90s`, `5m`, `1h`, `2d`, or a bare number of seconds (`60`), into milliseconds.
 * Returns undefined for anything else (negative, fractional ms, junk, unsafe sizes).
 */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A short human duration: `850ms`, `4.2s`, `59s`, `3m 05s`, `2h 04m`, `3d 02h`. */
export function formatDurationMs(ms: number): string {
  const abs = Math.abs(Math.round(ms));
  const sign = ms < 0 ? '-' : '';
  if (abs < 1_000) return `${sign}${abs}ms`;
  if (abs < 10_000) return `${sign}${(Math.floor(abs / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(abs / 1_000);
  if (s < 60) return `${sign}${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3_600) return `${sign}${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3_600)}h ${pad(Math.floor((s % 3_600) / 60))}m`;
  return `${sign}${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3_600))}h`;
}

/** `in 4.0s`, `overdue 12s` or `now` for a due time relative to `nowMs`. */
export function formatDue(atMs: number, nowMs: number): string {
  const deltaMs = atMs - nowMs;
  if (deltaMs === 0) return 'now';
  return deltaMs > 0 ? `in ${formatDurationMs(deltaMs)}` : `overdue ${formatDurationMs(-deltaMs)}`;
}

/** `2026-11-26 09:01:00.123Z`: ISO 8601, readable, UTC. */
export function formatTimestamp(atMs: number): string {
  return new Date(atMs).toISOString().replace('T', ' ');
}

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Cuts `text` to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
