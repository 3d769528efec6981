/**
 * The one periodic loop of the app layer: run a round, then sleep the interval on the
 * injected clock, until the signal aborts. A round that throws is reported through
 * `onError` and the next round goes on. The sleep takes the signal itself (the Clock
 * port removes its listener when the timer fires), so a loop that runs for days adds
 * no listener per round.
 */
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';

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

/** A controller's loop: its `runOnce` every interval; a round that throws is logged as an error with `what`. */
export function runRounds(controller: { runOnce(): Promise<unknown> }, o: { readonly signal: AbortSignal; readonly clock: Clock; readonly intervalMs: number; readonly log: Logger; readonly what: string }): Promise<void> {
  return runEvery({
    signal: o.signal,
    clock: o.clock,
    intervalMs: o.intervalMs,
    round: () => controller.runOnce(),
    onError: (err) => o.log.error({ error: err instanceof Error ? err.message : String(err) }, o.what),
  });
}
