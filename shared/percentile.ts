/**
 * Nearest-rank percentile of already sorted values (`p` from 0 to 100): the smallest value with p %
 * of the values at or below it. The one percentile of the project (the bench, the chaos report, the
 * console); undefined for no values.
 */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
