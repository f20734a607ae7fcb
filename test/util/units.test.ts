import { describe, expect, it } from 'vitest';
import { formatBytes, formatCost, formatDuration, formatInt } from '../../src/util/units.js';

describe('byte sizes', () => {
  it('reads in the largest binary unit below the size, up to GB', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatBytes(1024 ** 3 - 1)).toBe('1024.0 MB');
    expect(formatBytes(1.25 * 1024 ** 3)).toBe('1.25 GB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3072.00 GB');
  });
});

describe('durations', () => {
  it('seconds below 2 min, minutes below 2 h, hours below 2 days, then days', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(119)).toBe('119 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(7199)).toBe('120 min');
    expect(formatDuration(7200)).toBe('2 h');
    expect(formatDuration(172_799)).toBe('48 h');
    expect(formatDuration(172_800)).toBe('2 days');
  });
});

describe('formatInt', () => {
  it('groups thousands as en-US Intl does, for the integers commands print', () => {
    const intl = new Intl.NumberFormat('en-US');
    for (const n of [0, 7, 12, 999, 1000, 12_345, 123_456, 1_234_567, 25_278, -1, -1234, -123_456, Number.MAX_SAFE_INTEGER, 1234.5, 999_999.6]) {
      expect(formatInt(n), String(n)).toBe(intl.format(Math.round(n)));
    }
  });

  it('rounds to the nearest integer, and leaves what it cannot group to Intl', () => {
    expect(formatInt(-0.4)).toBe('0');
    expect(formatInt(1e21)).toBe('1,000,000,000,000,000,000,000');
    expect(formatInt(Number.NaN)).toBe('NaN');
  });
});

describe('formatCost', () => {
  it('is USD with cents and thousands separators, as the CLI and the dashboard print it', () => {
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(0.005)).toBe('$0.01');
    expect(formatCost(1234.565)).toBe('$1,234.57');
    expect(formatCost(123_456_789.125)).toBe('$123,456,789.13');
    expect(formatCost(null)).toBe('?');
  });

  it('writes a sign before the dollar sign', () => {
    expect(formatCost(-1)).toBe('-$1.00');
  });
});
