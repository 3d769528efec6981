/**
 * A bounded map whose entries expire, on an injected time source (tests move time by
 * hand), and single flight: pure data structures shared by the image lookup service
 * (app/image-lookup.ts) and the registry client's digest and token caches.
 */

/** What the cache reads the time from (the Clock port's `now`). */
export interface TimeSource {
  now(): number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly clock: TimeSource,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.clock.now() + ttlMs });
    // Map keeps insertion order: the first entries are the oldest written.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** One promise per key while it runs: concurrent identical lookups share one request. */
export class SingleFlight<V> {
  private readonly running = new Map<string, Promise<V>>();

  run(key: string, work: () => Promise<V>): Promise<V> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const p = work().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  get inFlight(): number {
    return this.running.size;
  }
}
