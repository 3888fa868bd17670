import { describe, expect, it } from 'vitest';
import {
  formatDue,
  formatDurationMs,
  formatTable,
  formatTimestamp,
  parseDurationMs,
  truncate,
} from '../../../shared/ops/format';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['60', 60_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['0s', 0],
  ])('parses %s as %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 'soon', '-5s', '5 minutes', '1e3s', '0x10', '1.0001ms', '99999999999999d'])(
    'refuses %j',
    (text) => {
      expect(parseDurationMs(text)).toBeUndefined();
    },
  );

  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [4_250, '4.2s'],
    [59_999, '59s'],
    [185_000, '3m 05s'],
    [7_440_000, '2h 04m'],
    [266_400_000, '3d 02h'],
    [-12_000, '-12s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDurationMs(ms)).toBe(text);
  });

  it('says how far a due time is, either way', () => {
    expect(formatDue(10_000, 6_000)).toBe('in 4.0s');
    expect(formatDue(10_000, 22_000)).toBe('overdue 12s');
    expect(formatDue(10_000, 10_000)).toBe('now');
  });
});

describe('text', () => {
  it('aligns table columns and trims trailing spaces', () => {
    expect(
      formatTable(
        ['ID', 'STATE', 'NOTE'],
        [
          ['tx-1', 'PREPARING', ''],
          ['tx-22', 'ABORTING', 'x'],
        ],
      ),
    ).toBe(['ID     STATE      NOTE', 'tx-1   PREPARING', 'tx-22  ABORTING   x'].join('\n'));
  });

  it('prints timestamps as readable UTC and cuts long text with a mark', () => {
    expect(formatTimestamp(Date.UTC(2026, 10, 26, 9, 1, 0, 123))).toBe('2026-11-26 09:01:00.123Z');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});
