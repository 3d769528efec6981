/**
 * A manual Clock for tests: `sleep` returns at once and moves time forward (recording
 * how long was asked for), `advance` moves time by hand (cache TTLs).
 */
import type { Clock } from '../../src/ports/clock.ts';

export interface ManualClock extends Clock {
  advance(ms: number): void;
  readonly sleeps: number[];
}

export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}
