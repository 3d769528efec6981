/**
 * The margin above a forecast (headroom.ts), worked by hand from its rule: the nearest-rank
 * quantile of the recent errors when at least MIN_ERRORS (10) are known and it is above the
 * floor; otherwise the floor, `headroom` x forecast, at least 15 % of it while fewer than 10
 * errors are known (unless the quantile is turned off).
 */
import { describe, expect, it } from 'vitest';
import { headroomOf, MIN_ERRORS, quantile, STARTING_HEADROOM } from './headroom.ts';

const ten = (x: number): number[] => new Array<number>(10).fill(x);

describe('quantile: nearest rank, the ceil(q x n)-th smallest', () => {
  it('of unsorted values, compared as numbers', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(quantile(xs, 0.9)).toBe(5); // ceil(4.5) = 5th
    expect(quantile(xs, 0.5)).toBe(3); // ceil(2.5) = 3rd
    expect(quantile(xs, 0.4)).toBe(2); // ceil(2) = 2nd
    expect(quantile(xs, 0)).toBe(1); // at least the 1st
    expect(quantile(xs, 1)).toBe(5);
    expect(quantile([10, 9, 100], 1 / 3)).toBe(9); // not "10" < "100" < "9" as strings
    expect(quantile([-0.2, 0.1, -0.5], 0.5)).toBe(-0.2);
    expect(xs).toEqual([5, 1, 4, 2, 3]); // the input is left as it was
  });
});

describe('headroomOf', () => {
  const o = { headroom: 0.05, errorQuantile: 0.9 };

  it('the starting margin, 15 %, until 10 errors are known; then the floor', () => {
    expect(MIN_ERRORS).toBe(10);
    expect(STARTING_HEADROOM).toBe(0.15);
    expect(headroomOf(2, new Array<number>(9).fill(0), o)).toEqual({ amount: 2 * 0.15, source: 'floor', quantile: 0.9, errors: 9 });
    expect(headroomOf(2, [], o)).toEqual({ amount: 2 * 0.15, source: 'floor', quantile: 0.9, errors: 0 });
    expect(headroomOf(2, ten(0), o)).toEqual({ amount: 2 * 0.05, source: 'floor', quantile: 0.9, errors: 10 });
    // A floor above 15 % holds from the start.
    expect(headroomOf(2, [], { ...o, headroom: 0.25 }).amount).toBe(0.5);
  });

  it('nine errors, however large, are not read; ten are', () => {
    expect(headroomOf(1, new Array<number>(9).fill(0.5), o)).toMatchObject({ amount: 0.15, source: 'floor' });
    expect(headroomOf(1, ten(0.5), o)).toEqual({ amount: 0.5, source: 'errors', quantile: 0.9, errors: 10 });
  });

  it('the quantile of the errors asked: with errors 0.01 .. 0.10, P90 is 0.09, P50 0.05', () => {
    const errors = [0.03, 0.1, 0.01, 0.07, 0.05, 0.09, 0.02, 0.08, 0.04, 0.06];
    expect(headroomOf(1, errors, { headroom: 0, errorQuantile: 0.9 })).toMatchObject({ amount: 0.09, source: 'errors' });
    expect(headroomOf(1, errors, { headroom: 0, errorQuantile: 0.5 })).toMatchObject({ amount: 0.05, source: 'errors' });
  });

  it('errors no larger than the floor leave the floor (a tie is the floor)', () => {
    expect(headroomOf(1, ten(0.05), o)).toMatchObject({ amount: 0.05, source: 'floor' });
    expect(headroomOf(1, ten(-0.2), o)).toMatchObject({ amount: 0.05, source: 'floor' }); // over-forecasts
  });

  it('errorQuantile 0 turns the errors off: the floor alone, without the starting 15 %', () => {
    expect(headroomOf(2, [], { headroom: 0.05, errorQuantile: 0 })).toEqual({ amount: 0.1, source: 'floor', quantile: 0, errors: 0 });
    expect(headroomOf(2, ten(0.9), { headroom: 0.05, errorQuantile: 0 })).toEqual({ amount: 0.1, source: 'floor', quantile: 0, errors: 10 });
  });
});
