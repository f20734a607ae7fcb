import { describe, expect, it } from 'vitest';
import { normalizeTs } from '../../src/model/identity.js';
import { isCanonicalInstant, parseInstant } from '../../src/model/instant.js';

describe('parseInstant', () => {
  it('reads the millisecond Z form as Date.parse does, for every field value around the edges', () => {
    const cases: string[] = [];
    for (const y of ['1970', '1999', '2024', '2026', '9999'])
      for (const mo of ['01', '02', '12'])
        for (const d of ['01', '28', '29', '31'])
          for (const hms of ['00:00:00.000', '23:59:59.999', '12:34:56.789']) cases.push(`${y}-${mo}-${d}T${hms}Z`);
    let valid = 0;
    for (const s of cases) {
      const t = parseInstant(s);
      const real = new Date(Date.parse(s)).toISOString() === s; // Feb 29 of a common year, Feb 31 roll over
      expect(t, s).toBe(real ? Date.parse(s) : null);
      if (real) valid++;
    }
    expect(valid).toBeGreaterThan(100);
  });

  it('refuses impossible or malformed values in that form', () => {
    for (const s of ['2026-13-01T00:00:00.000Z', '2026-00-10T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2025-02-29T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z', '2026-01-01T00:60:00.000Z', '2026-01-01T00:00:60.000Z', '2026-01-0xT00:00:00.000Z',
      '2026-01-01T00:00:00.00xZ', '0099-01-01T00:00:00.000Z', '2026/01/01T00:00:00.000Z']) {
      expect(parseInstant(s), s).toBeNull();
    }
  });

  it('reads other ISO-8601 forms: offsets, no fraction, microseconds', () => {
    expect(parseInstant('2026-03-01T10:00:00+02:00')).toBe(Date.UTC(2026, 2, 1, 8));
    expect(parseInstant('2026-03-01T10:00:00-0530')).toBe(Date.UTC(2026, 2, 1, 15, 30));
    expect(parseInstant('2026-03-01T10:00:00.123456Z')).toBe(Date.UTC(2026, 2, 1, 10, 0, 0, 123));
    expect(parseInstant('2026-03-01T10:00:00Z')).toBe(Date.UTC(2026, 2, 1, 10));
    expect(parseInstant('2026-03-01 10:00:00Z')).toBeNull();
  });

  it('names the form toISOString writes', () => {
    expect(isCanonicalInstant('2026-03-01T10:00:00.000Z')).toBe(true);
    expect(isCanonicalInstant('2026-03-01T10:00:00Z')).toBe(false);
    expect(isCanonicalInstant('2026-03-01T10:00:00.123456Z')).toBe(false);
  });
});

describe('normalizeTs', () => {
  /** What it returned before the canonical form was checked first: Date's parse and print. */
  const viaDate = (v: unknown) => {
    if (typeof v !== 'string' && typeof v !== 'number') return '';
    const t = new Date(v).getTime();
    return Number.isFinite(t) ? new Date(t).toISOString() : '';
  };

  it("returns exactly what Date's parse and print give, the canonical form included", () => {
    const inputs: unknown[] = [
      '2026-01-01T10:00:00.123Z', '2024-02-29T23:59:59.999Z', '0999-12-31T00:00:00.000Z',
      // Canonical-looking, but Date rolls them over: not returned as given.
      '2026-02-30T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2025-02-29T12:00:00.000Z', '0050-01-01T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z', '2026-01-01T23:59:60.000Z', '2026-01-01T10:00:00,123Z',
      '2026-01-01T10:00:00Z', '2026-01-01T10:00:00.123456Z', '2026-01-01T12:00:00.000+02:00', 1767261600123, '', null, {}, 'soon',
    ];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) inputs.push(new Date(Date.UTC(1970, 0, 1) + Math.floor(rnd() * 80 * 365 * 86_400_000)).toISOString());
    for (const v of inputs) expect(normalizeTs(v), String(v)).toBe(viaDate(v));
  });
});
