/** Time, injected so that the core, the simulator and tests are deterministic. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
