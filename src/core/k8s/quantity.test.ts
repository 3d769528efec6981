import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatBytes, formatMilli, formatQuantity, parseQuantity, parseQuantityExact } from './quantity.ts';

const ok = (s: string | number) => {
  const r = parseQuantityExact(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('parseQuantity', () => {
  it.each([
    // input, milli, value
    ['500m', 500, 1], // 0.5 -> Value() rounds up to 1
    ['1.5', 1500, 2],
    ['2', 2000, 2],
    ['0.1', 100, 1], // exact: 0.1*1000 = 100, not 100.00000000000001
    ['100m', 100, 1],
    ['1m', 1, 1],
    ['0.0001', 1, 1], // 0.1m rounds up to 1m
    ['128Mi', 128 * 1024 ** 2 * 1000, 128 * 1024 ** 2],
    ['1Ki', 1024000, 1024],
    ['1Gi', 1024 ** 3 * 1000, 1024 ** 3],
    ['1.5Gi', 1.5 * 1024 ** 3 * 1000, 1610612736],
    ['1G', 1e12, 1e9],
    ['1k', 1e6, 1000],
    ['1M', 1e9, 1e6],
    ['2e3', 2e6, 2000],
    ['2E3', 2e6, 2000],
    ['1e-3', 1, 1],
    ['1E', 1e21, 1e18], // E alone is the exa suffix
    ['5n', 1, 1], // 5e-9 rounds up to 1m
    ['3u', 1, 1],
    ['1.', 1000, 1],
    ['.5', 500, 1],
    ['+2', 2000, 2],
    ['0', 0, 0],
    ['00', 0, 0],
    ['1Ti', 1024 ** 4 * 1000, 1024 ** 4],
  ])('%s -> %d milli, %d value', (input, milli, value) => {
    const q = ok(input);
    expect(q.milli).toBe(milli);
    expect(q.value).toBe(value);
  });

  it('keeps nanos exact', () => {
    expect(ok('1.5Gi').nano).toBe(1610612736n * 1_000_000_000n);
    expect(ok('0.000000001').nano).toBe(1n);
    expect(ok('0.0000000001').nano).toBe(1n); // below nano rounds up, never to zero
    expect(ok('-1').nano).toBe(-1_000_000_000n);
  });

  it('accepts YAML numbers', () => {
    expect(ok(2).milli).toBe(2000);
    expect(ok(0.5).milli).toBe(500);
    expect(ok(1e21).value).toBe(2 ** 63); // "1e+21" parses, then hits the cap
  });

  it('caps at 2^63-1 as Kubernetes does', () => {
    expect(ok('1e100').nano).toBe((2n ** 63n - 1n) * 1_000_000_000n);
  });

  it.each(['', ' 1', '1 ', 'abc', '1.1.1', '0.1mi', '1i', '.5i', '-3.01e-', '1e', '1Mb', '1KiB', 'm', '.', '1+1'])('refuses %j naming it', (input) => {
    const r = parseQuantityExact(input);
    expect(r.ok).toBe(false);
    expect(parseQuantity(input).ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(`"${input}"`);
  });

  it('property: integer byte counts with a binary suffix are exact', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 20 }), fc.constantFrom(['Ki', 10], ['Mi', 20], ['Gi', 30]), (n, [suffix, shift]) => {
      expect(ok(`${n}${suffix}`).value).toBe(n * 2 ** (shift as number));
    }));
  });

  it('property: millicores written with m round-trip', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), (m) => {
      expect(ok(`${m}m`).milli).toBe(m);
      expect(ok(formatMilli(m)).milli).toBe(m);
    }));
  });

  it('parseQuantity gives the plain number (the shared signature)', () => {
    expect(parseQuantity('500m')).toEqual({ ok: true, value: 0.5 });
    expect(parseQuantity('8Gi')).toEqual({ ok: true, value: 8 * 2 ** 30 });
    expect(parseQuantity('1.5')).toEqual({ ok: true, value: 1.5 });
    expect(parseQuantity('100n')).toEqual({ ok: true, value: 1e-7 });
    expect(parseQuantity('-1k')).toEqual({ ok: true, value: -1000 });
  });

  it('formatQuantity writes the canonical form and round-trips', () => {
    expect(formatQuantity(0.5)).toBe('500m');
    expect(formatQuantity(1610612736, 'BinarySI')).toBe('1536Mi');
    expect(formatQuantity(8e9)).toBe('8G');
    expect(formatQuantity(1099511627775, 'BinarySI')).toBe('1024Gi');
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('DecimalSI', 'BinarySI'), (n, f) => {
      // The formatter snaps values within a nano unit (or float noise) to the larger
      // suffix (2^40 - 1 -> 1024Gi), so the round trip holds to a relative 1e-9.
      const r = parseQuantity(formatQuantity(n, f as 'DecimalSI' | 'BinarySI'));
      if (!r.ok) throw new Error(r.error);
      expect(Math.abs(r.value - n)).toBeLessThanOrEqual(Math.max(1e-9, 1e-9 * n));
    }));
  });

  it('formats', () => {
    expect(formatMilli(1500)).toBe('1500m');
    expect(formatMilli(2000)).toBe('2');
    expect(formatBytes(128 * 1024 ** 2)).toBe('128Mi');
    expect(formatBytes(1000)).toBe('1000');
  });
});
