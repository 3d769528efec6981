/**
 * The one periodic loop of the app layer: run a round, then sleep the interval on the
 * injected clock, until the signal aborts. A round that throws is reported through
 * `onError` and the next round goes on. The sleep takes the signal itself (the Clock
 * port removes its listener when the timer fires), so a loop that runs for days adds
 * no listener per round.
 */
import type { Clock } from '../ports/clock.ts';

export interface RunLoopOptions {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly round: () => Promise<unknown>;
  readonly onError: (err: unknown) => void;
}

export async function runEvery(o: RunLoopOptions): Promise<void> {
  while (!o.signal.aborted) {
    try {
      await o.round();
    } catch (err) {
      o.onError(err);
    }
    if (o.signal.aborted) break;
    // An aborted sleep rejects: that is the loop's end, not an error.
    await o.clock.sleep(o.intervalMs, o.signal).catch(() => undefined);
  }
}
