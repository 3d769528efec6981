import { describe, expect, it } from 'vitest';
import { dmaDirect } from './dma.ts';
import { TraceEvaluation } from './trace-evaluation.ts';
import { MINUTE_MS } from './window.ts';

describe('TraceEvaluation', () => {
  it('forecasts each series from its per-minute maxima and scores every forecaster on the same points', () => {
    const ev = new TraceEvaluation({ window: 3, horizon: 2, headroom: 0.1 });
    const cpu = [0.1, 0.2, 0.3, 0.35, 0.5, 0.4, 0.6, 0.7];
    cpu.forEach((v, m) => {
      ev.add('a', m * MINUTE_MS, { cpu: v, mem: 0.5 });
      ev.add('a', m * MINUTE_MS + 30_000, { cpu: v / 2 }); // a lower sample in the same minute: the max stays
      ev.add('b', m * MINUTE_MS, { disk: 0.25 });
    });
    const r = ev.finish();
    expect(r.series.map((s) => `${s.id}/${s.metric}/${s.samples}`)).toEqual(['a/cpu/8', 'a/mem/8', 'b/disk/8']);
    const expected = dmaDirect(cpu, 3, 2);
    const next = r.series[0]!.next;
    expect(next.ok && next.value).toBeCloseTo(expected.ok ? expected.value : NaN, 12); // incremental vs direct
    expect(r.series[1]!.next).toEqual({ ok: true, value: 0.5 });
    // DMA (N=3) forecasts from minute 4 (index 4); horizon 2 -> minutes 6 and 7 are scored.
    for (const name of ['dma', 'last', 'mean', 'max', 'holt', 'vpa'] as const) expect(r.evaluation[name].cpu.points).toBe(2);
    expect(r.evaluation.dma.net.points).toBe(0);
    expect(r.overall.last.points).toBe(2 + 2 + 2); // cpu, mem, disk
    expect(r.evaluation.last.mem.mae).toBeCloseTo(0, 12);
  });

  it('counts late samples and starts a series over after a long gap', () => {
    const ev = new TraceEvaluation({ window: 2, horizon: 1, headroom: 0, reorderMinutes: 2, maxHoldMinutes: 10 });
    for (let m = 0; m < 5; m++) ev.add('a', m * MINUTE_MS, { cpu: 0.5 });
    ev.add('a', 0, { cpu: 0.9 }); // 4 minutes late, beyond the 2-minute reorder window
    for (let m = 100; m < 102; m++) ev.add('a', m * MINUTE_MS, { cpu: 0.5 });
    const r = ev.finish();
    expect(r.late).toBe(1);
    expect(r.series[0]).toMatchObject({ samples: 7, gaps: 1, next: { ok: false, reason: 'starting', needed: 3, have: 2 } });
  });

  it('reports the coverage achieved against the quantile asked: the floor covers a constant series, a noisy one gets about what it asked', () => {
    const coverage = { errorQuantile: 0.9, errorWindow: 60, headroom: 0.05 };
    const flat = new TraceEvaluation({ window: 5, horizon: 5, headroom: 0, coverage });
    for (let m = 0; m < 500; m++) flat.add('a', m * MINUTE_MS, { cpu: 0.4 });
    const f = flat.finish().coverage!;
    expect(f.perMetric.cpu).toMatchObject({ asked: 0.9, achieved: 1 });
    // The floor alone: 15 % of the forecast until 10 errors are known, then 5 %. A forecast's error is known
    // 5 minutes (the horizon) after it is made, so the first 14 forecasts are made with fewer than 10.
    const n = f.perMetric.cpu.points;
    expect(f.perMetric.cpu.slack).toBeCloseTo((0.4 * (14 * 0.15 + (n - 14) * 0.05)) / n, 9);
    // Uniform noise around a level (a fixed linear congruential sequence): the quantile of the errors covers about 90 %.
    for (const q of [0.5, 0.9]) {
      const noisy = new TraceEvaluation({ window: 5, horizon: 5, headroom: 0, coverage: { ...coverage, errorQuantile: q, headroom: 0 } });
      let x = 12345;
      for (let m = 0; m < 20_000; m++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        noisy.add('a', m * MINUTE_MS, { cpu: 0.3 + 0.4 * (x / 2 ** 31) });
      }
      const c = noisy.finish().coverage!.perMetric.cpu;
      expect(c.points).toBeGreaterThan(19_900);
      expect(Math.abs(c.achieved - q)).toBeLessThan(0.03);
    }
  });

  it('rejects a bad window before any sample', () => {
    expect(() => new TraceEvaluation({ window: 1, horizon: 1, headroom: 0 })).toThrow(RangeError);
  });
});
