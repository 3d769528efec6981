/**
 * The one way tests wait for something asynchronous: poll a condition, bounded by its own
 * deadline (not the test's timeout), and on timeout throw naming what was awaited and,
 * when given, the state last seen, so a failure reads as a failure and not as a hang or a
 * confusing diff further on.
 */

export interface WaitOptions {
  /** What is awaited, for the error: "the informer to show both pods". */
  readonly what: string;
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Between two looks (default 20 ms). */
  readonly intervalMs?: number;
  /** The state to report on timeout (e.g. what the informer holds). */
  readonly state?: () => unknown;
  /** Ends the wait at once with this error when it returns one (e.g. a process that could not start). */
  readonly failure?: () => Error | undefined;
}

export class WaitTimeout extends Error {}

/**
 * Resolves with the first value of `check` that is neither undefined nor false; throws
 * WaitTimeout after `timeoutMs`. An error thrown by `check` ends the wait at once.
 */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = options.failure?.();
    if (failed) throw new Error(`${failed.message} (while waiting for ${options.what})`, { cause: failed });
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) {
      let last = '';
      if (options.state) {
        try {
          last = `; last seen: ${JSON.stringify(options.state())}`;
        } catch (e) {
          last = `; state unavailable: ${String(e)}`;
        }
      }
      throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${options.what}${last}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
