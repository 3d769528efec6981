/**
 * Clocks for the fake server: the system clock polyarch uses (src/adapters/system-clock.ts),
 * or a manual one tests move forward: the simulator's clock (src/sim/sim-clock.ts) with
 * `advance(ms)`.
 */
import type { Clock } from '../src/ports/clock.ts';
import { SimClock } from '../src/sim/sim-clock.ts';

export type { Clock };
export { systemClock } from '../src/adapters/system-clock.ts';
export { rfc3339 } from '../src/core/kube-model/time.ts';

/** A clock that moves only when told: `advance(ms)` also wakes the sleepers whose time has come. */
export class ManualClock extends SimClock {
  constructor(start = Date.UTC(2026, 0, 1)) {
    super(start);
  }

  advance(ms: number): void {
    this.advanceTo(this.now() + ms);
  }
}

/** RFC 3339 with microseconds (metav1.MicroTime, used by Lease renewTime and events.k8s.io). */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
