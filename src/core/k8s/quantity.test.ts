import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatQuantity, parseQuantity } from './quantity.ts';

const v = (s: string): number => {
  const r = parseQuantity(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5], ['4', 4], ['1.5', 1.5], ['.5', 0.5], ['2.', 2], ['+3', 3], ['-1k', -1000],
    ['8Gi', 8 * 2 ** 30], ['1Ki', 1024], ['1Ei', 2 ** 60], ['10G', 1e10], ['200M', 2e8],
    ['1E', 1e18], ['1E3', 1000], ['2e-3', 0.002], ['1e+2', 100], ['100n', 1e-7], ['5u', 5e-6],
    ['0.1Gi', 0.1 * 2 ** 30], ['1T', 1e12], ['1P', 1e15], ['  7 ', 7],
  ])('%s = %d', (s, expected) => {
    expect(v(s)).toBeCloseTo(expected, 12);
  });

  it.each(['', 'abc', '1K', '1e', '1.2.3', 'm', '1 Gi', '1gi', '--1', '1Gib', '.', 'e3', '1e1.5'])('rejects %j', (s) => {
    const r = parseQuantity(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/quantity|suffix/);
  });
});

describe('formatQuantity', () => {
  it.each([
    [0.5, 'DecimalSI', '500m'], [1.5, 'DecimalSI', '1500m'], [4, 'DecimalSI', '4'], [8e9, 'DecimalSI', '8G'],
    [1610612736, 'BinarySI', '1536Mi'], [8 * 2 ** 30, 'BinarySI', '8Gi'], [1000, 'BinarySI', '1k'], [0, 'DecimalSI', '0'],
    [-2048, 'BinarySI', '-2Ki'], [1e-7, 'DecimalSI', '100n'],
  ] as const)('%d as %s = %s', (x, f, s) => {
    expect(formatQuantity(x, f)).toBe(s);
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom('DecimalSI', 'BinarySI'), fc.integer({ min: 0, max: 3 }), (n, f, milli) => {
        const x = n / 10 ** milli;
        expect(v(formatQuantity(x, f as 'DecimalSI' | 'BinarySI'))).toBeCloseTo(x, 6);
      }),
    );
  });
});
