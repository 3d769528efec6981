import type { Clock } from '../ports/clock.ts';

/**
 * Simulated time: it moves only when the simulator advances it. `sleep` resolves when
 * the clock passes the wake-up time, so code written against the Clock port (retry
 * back-offs, loops) runs unchanged in the simulator.
 */
export class SimClock implements Clock {
  private t: number;
  private sleepers: { at: number; resolve: () => void }[] = [];

  constructor(startMs: number) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== entry);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      // The listener goes when the sleeper wakes: a loop sleeping every round adds none.
      const entry = { at: this.t + ms, resolve: (): void => { signal?.removeEventListener('abort', onAbort); resolve(); } };
      this.sleepers.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward to `ms` (never backwards) and wakes the sleepers that are due. */
  advanceTo(ms: number): void {
    if (ms < this.t) throw new RangeError(`the simulated clock cannot go back (${ms} < ${this.t})`);
    this.t = ms;
    const due = this.sleepers.filter((s) => s.at <= ms);
    this.sleepers = this.sleepers.filter((s) => s.at > ms);
    for (const s of due) s.resolve();
  }
}
