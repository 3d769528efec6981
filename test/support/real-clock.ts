import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../src/ports/clock.ts';

/** Wall-clock time, for tests over real sockets. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
};
