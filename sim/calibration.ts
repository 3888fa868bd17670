/**
 * What the model is calibrated against: the emulator bench's two-phase rows
 * (bench/results/latest.md), read from its results table.
 */

export interface BenchPoint {
  readonly clients: number;
  readonly perS: number;
  readonly p50Ms: number;
  readonly requestsPerTransfer: number;
}

/** The two-phase rows of the bench's results table, by concurrency. */
export function benchTwoPhase(markdown: string): Map<number, BenchPoint> {
  const points = new Map<number, BenchPoint>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | workload | concurrency | committed | aborted | failed | tx/s | p50 | p95 | p99 | requests/transfer | …
    if (cells[1] !== 'two-phase' || cells.length < 12) continue;
    const clients = Number(cells[2]);
    if (!Number.isInteger(clients) || points.has(clients)) continue;
    points.set(clients, {
      clients,
      perS: Number(cells[6]),
      p50Ms: Number(cells[7]),
      requestsPerTransfer: Number(cells[10]),
    });
  }
  return points;
}

/** The calibration's tolerance: the model within ±30 % of the bench (see docs/model.md). */
export const CALIBRATION_TOLERANCE = 0.3;

/** The model's run of the bench's closed loop at `clients` clients (emulator profile). */
export const CALIBRATION_RUN = { seed: 1, durationMs: 20_000, warmupMs: 2_000, accounts: 64, slotCount: 64 };
