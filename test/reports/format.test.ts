import { describe, expect, it } from 'vitest';
import { formatInt } from '../../src/reports/format.js';

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
