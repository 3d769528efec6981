import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MINUTE_MS, UsageWindow, WindowStore } from './window.ts';

const f32 = (x: number): number => Math.fround(x);

describe('UsageWindow', () => {
  it('keeps the maximum within a minute and closes it when a later minute starts', () => {
    const w = new UsageWindow();
    w.record(0, 0.2);
    w.record(10_000, 0.5);
    w.record(59_999, 0.3);
    expect(w.length).toBe(0); // minute 0 still open
    expect(w.openMinute).toBe(0);
    w.record(MINUTE_MS + 1, 0.1);
    expect(w.length).toBe(1);
    expect(w.last()).toBe(f32(0.5));
    expect(w.openMinute).toBe(1);
  });

  it('close(t) closes the open minute and holds the value across minutes with no sample', () => {
    const w = new UsageWindow();
    w.record(0, 0.4);
    w.close(3 * MINUTE_MS); // minutes 0, 1, 2 have ended
    expect(w.values()).toEqual([f32(0.4), f32(0.4), f32(0.4)]);
    w.close(3 * MINUTE_MS + 5); // minute 3 has not ended
    expect(w.length).toBe(3);
    w.record(5 * MINUTE_MS, 0.9); // minute 3 and 4 missed: held
    w.close(6 * MINUTE_MS);
    expect(w.values()).toEqual([0.4, 0.4, 0.4, 0.4, 0.4, 0.9].map(f32));
  });

  it('a gap as long as the window starts over', () => {
    const w = new UsageWindow(5);
    for (let i = 0; i < 5; i++) w.push(0.5);
    w.record(20 * MINUTE_MS, 0.7);
    w.close(21 * MINUTE_MS);
    expect(w.values()).toEqual([f32(0.7)]);
  });

  it('late samples raise a closed minute still in the window; older ones are stale', () => {
    const w = new UsageWindow(3);
    for (let m = 0; m < 5; m++) w.record(m * MINUTE_MS, 0.1);
    w.close(5 * MINUTE_MS); // window holds minutes 2, 3, 4
    expect(w.record(3 * MINUTE_MS + 7, 0.8)).toBe('recorded');
    expect(w.record(1 * MINUTE_MS, 0.8)).toBe('stale');
    expect(w.values()).toEqual([0.1, 0.8, 0.1].map(f32));
  });

  it('rejects non-finite or negative values and clamps values above 1', () => {
    const w = new UsageWindow();
    expect(w.push(Number.NaN)).toBe('invalid');
    expect(w.push(-0.1)).toBe('invalid');
    expect(w.record(Number.POSITIVE_INFINITY, 0.2)).toBe('invalid');
    expect(w.push(1.5)).toBe('clamped');
    expect(w.values()).toEqual([1]);
  });

  it('keeps only the last 60 minutes, oldest first', () => {
    const w = new UsageWindow();
    for (let i = 0; i < 100; i++) w.push(i / 100);
    expect(w.length).toBe(60);
    expect(w.minutesSeen).toBe(100);
    expect(w.values()).toEqual(Array.from({ length: 60 }, (_, k) => f32((40 + k) / 100)));
    expect(w.at(0)).toBe(f32(0.99));
    expect(w.at(60)).toBeNaN();
    expect(w.max()).toBe(f32(0.99));
  });

  it('per-minute maxima match a direct computation for any sample stream (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 90_000 }), v: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 200 }),
        (steps) => {
          const w = new UsageWindow(60);
          const perMinute = new Map<number, number>();
          let t = 0;
          for (const { dt, v } of steps) {
            t += dt;
            w.record(t, v);
            const m = Math.floor(t / MINUTE_MS);
            perMinute.set(m, Math.max(perMinute.get(m) ?? 0, f32(v)));
          }
          w.close(t + MINUTE_MS);
          // The expected series: every minute from first to last, gaps holding the previous value.
          const minutes = [...perMinute.keys()];
          if (minutes.length === 0) return w.length === 0;
          const expected: number[] = [];
          let held = 0;
          for (let m = minutes[0]!; m <= minutes[minutes.length - 1]!; m++) {
            held = perMinute.get(m) ?? held;
            expected.push(held);
          }
          // A gap of the whole window clears it; check only the part after the last such gap.
          let start = 0;
          for (let i = 1; i < minutes.length; i++) if (minutes[i]! - minutes[i - 1]! - 1 >= 60) start = minutes[i]! - minutes[0]!;
          expect(w.values()).toEqual(expected.slice(start).slice(-60));
          return true;
        },
      ),
    );
  });
});

describe('WindowStore', () => {
  it('keeps series of different apps and metrics apart', () => {
    const s = new WindowStore({ apps: 3 });
    s.record(0, 'cpu', MINUTE_MS, 0.1);
    s.record(2, 'mem', MINUTE_MS + 5, 0.9);
    s.record(1, 'disk', 1000, 0.3);
    s.closeAll(2 * MINUTE_MS);
    expect(s.values(0, 'cpu')).toEqual([f32(0.1)]);
    expect(s.values(0, 'mem')).toEqual([]);
    expect(s.values(2, 'mem')).toEqual([f32(0.9)]);
    expect(s.values(1, 'disk')).toEqual([f32(0.3), f32(0.3)]);
    s.reset(2);
    expect(s.length(2, 'mem')).toBe(0);
    expect(() => s.push(3, 'cpu', 0.1)).toThrow(RangeError);
  });

  it('copy gives the newest n minutes oldest first', () => {
    const s = new WindowStore({ apps: 1, minutes: 4 });
    for (const v of [0.1, 0.2, 0.3, 0.4, 0.5]) s.push(0, 'net', v);
    const out = new Float64Array(3);
    expect(s.copy(0, 'net', out, 3)).toBe(3);
    expect([...out]).toEqual([0.3, 0.4, 0.5].map(f32));
    expect(s.mean(0, 'net')).toBeCloseTo(0.35, 6);
  });
});
