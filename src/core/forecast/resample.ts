/**
 * Turns timestamped samples of one series into per-minute maxima, in order, in constant
 * memory. Samples may arrive out of order by up to `reorderMinutes`; later than that they
 * are 'late' and dropped (counted by the caller).
 *
 * Minutes with no sample between two sampled minutes hold the previous minute's value: a
 * trace with a 5-minute step gives each sample to the 5 minutes of its interval. A run of
 * `maxHoldMinutes` or more empty minutes is a gap: the series breaks there (`onGap`), and
 * forecasters start over.
 *
 * `stepMinutes` (default 1) resamples to steps of that many minutes instead: the maximum per
 * step, and a window that counts steps (for a trace with a 5-minute step, `stepMinutes: 5`
 * gives one value per sample instead of holding it for five minutes). Minute indexes given
 * to the sink are then step indexes; reorder and hold limits are rounded up to whole steps.
 */
import { MINUTE_MS } from './window.ts';

export interface ResampleSink {
  minute(minute: number, value: number): void;
  gap(fromMinute: number, toMinute: number): void;
}

export interface ResampleOptions {
  readonly reorderMinutes?: number;
  readonly maxHoldMinutes?: number;
  readonly stepMinutes?: number;
}

export type ResampleOutcome = 'ok' | 'late' | 'invalid';

export class MinuteResampler {
  readonly reorder: number;
  readonly maxHold: number;
  private readonly buf: number[]; // per-minute max, NaN = no sample; slot = minute % reorder (plain array: see DmaForecaster)
  private base = NaN; // oldest minute not yet emitted
  private newest = NaN; // newest minute seen
  private lastEmitted = NaN;
  private lastValue = 0;
  private emitted = 0;
  private readonly stepMs: number;

  constructor(private readonly sink: ResampleSink, opts: ResampleOptions = {}) {
    const step = opts.stepMinutes ?? 1;
    if (!Number.isInteger(step) || step < 1) throw new RangeError(`stepMinutes must be a positive integer, got ${step}`);
    this.stepMs = step * MINUTE_MS;
    this.reorder = Math.ceil((opts.reorderMinutes ?? 10) / step);
    this.maxHold = Math.ceil((opts.maxHoldMinutes ?? 60) / step);
    if (!Number.isInteger(this.reorder) || this.reorder < 1) throw new RangeError(`reorderMinutes must be a positive integer, got ${this.reorder}`);
    if (!Number.isInteger(this.maxHold) || this.maxHold < 1) throw new RangeError(`maxHoldMinutes must be a positive integer, got ${this.maxHold}`);
    this.buf = new Array<number>(this.reorder).fill(NaN);
  }

  /** Minutes emitted so far (held minutes included). */
  get minutes(): number {
    return this.emitted;
  }

  add(tMs: number, value: number): ResampleOutcome {
    if (!Number.isFinite(tMs) || !Number.isFinite(value)) return 'invalid';
    const m = Math.floor(tMs / this.stepMs);
    if (Number.isNaN(this.base)) {
      this.base = m - this.reorder + 1; // earlier minutes may still come
      this.newest = m;
    }
    if (m < this.base) return 'late';
    if (m > this.newest) {
      const limit = m - this.reorder; // minutes <= limit leave the buffer
      this.emitUpTo(limit);
      if (limit >= this.base) this.base = limit + 1;
      this.newest = m;
    }
    const slot = this.slot(m);
    const cur = this.buf[slot]!;
    if (Number.isNaN(cur) || value > cur) this.buf[slot] = value;
    return 'ok';
  }

  /** Emits every minute still buffered (end of input). */
  flush(): void {
    if (Number.isNaN(this.base)) return;
    this.emitUpTo(this.newest);
    this.base = this.newest + 1;
  }

  private emitUpTo(limit: number): void {
    // Only minutes up to the newest seen can hold a sample.
    const end = Math.min(limit, this.newest);
    for (let m = this.base; m <= end; m++) {
      const slot = this.slot(m);
      const v = this.buf[slot]!;
      if (Number.isNaN(v)) continue;
      this.buf[slot] = NaN;
      if (!Number.isNaN(this.lastEmitted)) {
        const gap = m - this.lastEmitted - 1;
        if (gap >= this.maxHold) this.sink.gap(this.lastEmitted + 1, m - 1);
        else for (let k = 1; k <= gap; k++) this.put(this.lastEmitted + 1, this.lastValue);
      }
      this.put(m, v);
    }
  }

  private slot(m: number): number {
    const r = m % this.reorder;
    return r < 0 ? r + this.reorder : r;
  }

  private put(m: number, v: number): void {
    this.sink.minute(m, v);
    this.lastEmitted = m;
    this.lastValue = v;
    this.emitted++;
  }
}
