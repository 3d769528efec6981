import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import { apiFailure } from './errors.ts';
import { requestOptions } from './request-options.ts';

export interface EventTarget {
  readonly kind: string;
  readonly apiVersion?: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface RecordedEvent {
  readonly target: EventTarget;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorderOptions {
  readonly component: string;
  readonly instance: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly dryRun?: boolean;
  /** Distinct events remembered for counting repeats (client-go's LRU: 4096). */
  readonly maxTracked?: number;
  /** Writes waiting at most; beyond it new events are dropped (client-go's broadcaster queue: 1000). */
  readonly queueSize?: number;
  /** Spam filter: events per object at once, and the refill of one (client-go: 25, one per 5 minutes). */
  readonly spamBurst?: number;
  readonly spamRefillMs?: number;
  /** Aggregation: distinct messages per (object, type, reason) in the window before they are combined (client-go: 10 in 10 minutes). */
  readonly aggregateMax?: number;
  readonly aggregateWindowMs?: number;
  /** Writes in flight at once. Default 2. */
  readonly writers?: number;
  /**
   * Event writes per second over all objects, and the burst allowed (default 20/s, burst
   * 50): events yield the API server to the writes that place pods; what waits is
   * written later, or dropped once the queue is full.
   */
  readonly writeQps?: number;
  readonly writeBurst?: number;
}

/** What the recorder did, for metrics and tests. */
export interface EventRecorderStats {
  created: number;
  updated: number;
  /** Repeats folded into a write still waiting (no request of their own). */
  coalesced: number;
  /** Messages combined by the aggregator. */
  aggregated: number;
  /** Dropped by the per-object spam filter. */
  spam: number;
  /** Dropped because the queue was full. */
  overflow: number;
  failed: number;
}

interface Pending {
  readonly key: string;
  event: RecordedEvent;
  /** Occurrences not yet written. */
  count: number;
  first: number;
  last: number;
}

/**
 * Writes core/v1 Events as client-go's EventBroadcaster and EventCorrelator do, off the
 * caller's path: record() returns at once; writers drain a bounded queue in the
 * background.
 *
 * - Spam filter: a token bucket per (source, object): a burst of 25, then one event per
 *   5 minutes; beyond that events are dropped (EventSourceObjectSpamFilter).
 * - Aggregator: beyond 10 distinct messages for the same (object, type, reason) within
 *   10 minutes, further ones are combined into one event "(combined from similar
 *   events): <latest message>" whose count grows (EventAggregator).
 * - Logger: a repeat of an event already written bumps its `count` and `lastTimestamp`
 *   with a patch (eventLogger); repeats of an event still waiting to be written fold
 *   into that one write.
 *
 * Events are best effort: a failed write is logged and dropped, never a reason to stop
 * scheduling.
 */
export class EventRecorder {
  readonly stats: EventRecorderStats = { created: 0, updated: 0, coalesced: 0, aggregated: 0, spam: 0, overflow: 0, failed: 0 };
  private readonly api: CoreV1Api;
  /** Event key -> the Event written for it and its count. */
  private readonly written = new Map<string, { name: string; count: number }>();
  private readonly queue: Pending[] = [];
  private readonly waiting = new Map<string, Pending>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly similar = new Map<string, { messages: Set<string>; at: number }>();
  private active = 0;
  private idle: (() => void)[] = [];
  private tokens: number | undefined;
  private tokensAt = 0;
  /** Set while waiting for a write token; aborted by flush(). */
  private sleeping: AbortController | undefined;
  private draining = false;
  private sequence = 0;

  constructor(kc: KubeConfig, private readonly options: EventRecorderOptions) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  /** Queues an event (or folds it into one queued or written); returns at once. */
  record(event: RecordedEvent): void {
    const { clock, log } = this.options;
    const { target } = event;
    log.info({ object: `${target.kind.toLowerCase()}/${target.namespace}/${target.name}`, reason: event.reason, type: event.type }, event.message);
    if (this.options.dryRun) return;
    const now = clock.now();
    const object = `${target.kind}|${target.uid ?? ''}|${target.namespace}/${target.name}`;
    if (!this.allow(object, now)) {
      this.stats.spam++;
      return;
    }
    const { event: combined, key } = this.aggregate(`${object}|${event.type}|${event.reason}`, event, now);
    const queued = this.waiting.get(key);
    if (queued) {
      queued.count++;
      queued.last = now;
      queued.event = combined;
      this.stats.coalesced++;
      return;
    }
    if (this.queue.length >= (this.options.queueSize ?? 1000)) {
      this.stats.overflow++;
      log.warn({ reason: event.reason, object: `${target.namespace}/${target.name}` }, 'event: queue full, dropped');
      return;
    }
    const p: Pending = { key, event: combined, count: 1, first: now, last: now };
    this.queue.push(p);
    this.waiting.set(key, p);
    this.pump();
  }

  /** Writes every queued event now, past the rate limit (tests, shutdown); resolves when all are written or failed. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    this.draining = true;
    this.sleeping?.abort();
    this.sleeping = undefined;
    const done = new Promise<void>((resolve) => this.idle.push(resolve));
    this.pump();
    return done;
  }

  /** The per-object token bucket. */
  private allow(object: string, now: number): boolean {
    const burst = this.options.spamBurst ?? 25;
    const refill = this.options.spamRefillMs ?? 300_000;
    let b = this.buckets.get(object);
    if (!b) {
      b = { tokens: burst, at: now };
      this.buckets.set(object, b);
      this.trim(this.buckets);
    } else {
      const gained = Math.floor((now - b.at) / refill);
      if (gained > 0) {
        b.tokens = Math.min(burst, b.tokens + gained);
        b.at += gained * refill;
      }
      if (b.tokens >= burst) b.at = now;
    }
    if (b.tokens <= 0) return false;
    b.tokens--;
    return true;
  }

  /**
   * The event as written and the key its repeats are counted under: itself (keyed with
   * its message), or, once similar messages are too many, combined under the key of
   * (object, type, reason), so all further ones count on one event carrying the latest.
   */
  private aggregate(key: string, event: RecordedEvent, now: number): { event: RecordedEvent; key: string } {
    const max = this.options.aggregateMax ?? 10;
    const window = this.options.aggregateWindowMs ?? 600_000;
    let rec = this.similar.get(key);
    if (!rec || now - rec.at > window) {
      rec = { messages: new Set(), at: now };
      this.similar.set(key, rec);
      this.trim(this.similar);
    }
    rec.at = now;
    if (rec.messages.has(event.message) || rec.messages.size < max) {
      rec.messages.add(event.message);
      return { event, key: `${key}|${event.message}` };
    }
    this.stats.aggregated++;
    return { event: { ...event, message: `(combined from similar events): ${event.message}` }, key };
  }

  private trim(map: Map<string, unknown>): void {
    const max = this.options.maxTracked ?? 4096;
    if (map.size > max) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  }

  /** Takes a write token, or says in how many milliseconds one comes. */
  private takeToken(now: number): number {
    const qps = this.options.writeQps ?? 20;
    const burst = this.options.writeBurst ?? 50;
    this.tokens = Math.min(burst, (this.tokens ?? burst) + ((now - this.tokensAt) * qps) / 1000);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / qps);
  }

  private pump(): void {
    while (this.active < (this.options.writers ?? 2) && this.queue.length > 0 && !this.sleeping) {
      const wait = this.draining ? 0 : this.takeToken(this.options.clock.now());
      if (wait > 0) {
        const sleeping = (this.sleeping = new AbortController());
        void this.options.clock.sleep(wait, sleeping.signal).catch(() => undefined).then(() => {
          if (this.sleeping === sleeping) this.sleeping = undefined;
          this.pump();
        });
        return;
      }
      const p = this.queue.shift() as Pending;
      this.active++;
      void this.write(p).finally(() => {
        this.active--;
        this.pump();
        if (this.queue.length === 0 && this.active === 0) {
          this.draining = false;
          for (const resolve of this.idle.splice(0)) resolve();
        }
      });
    }
  }

  private async write(p: Pending): Promise<void> {
    const { log } = this.options;
    // From here on, repeats start a new write.
    this.waiting.delete(p.key);
    const { target } = p.event;
    const previous = this.written.get(p.key);
    if (previous) {
      try {
        await this.api.patchNamespacedEvent({
          name: previous.name,
          namespace: target.namespace,
          body: [
            { op: 'replace', path: '/count', value: previous.count + p.count },
            { op: 'replace', path: '/lastTimestamp', value: new Date(p.last).toISOString() },
            { op: 'replace', path: '/message', value: p.event.message },
          ],
        }, requestOptions() as never);
        previous.count += p.count;
        this.stats.updated++;
        return;
      } catch (err) {
        // Gone (TTL expired) or never written: create a fresh one.
        log.debug({ error: apiFailure(err).message }, 'event: update failed, creating anew');
        this.written.delete(p.key);
      }
    }
    this.sequence += 1;
    const name = `${target.name}.${(p.first * 1000 + (this.sequence % 1000)).toString(16)}`;
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: target.namespace },
      involvedObject: { kind: target.kind, apiVersion: target.apiVersion ?? 'v1', namespace: target.namespace, name: target.name, uid: target.uid },
      reason: p.event.reason,
      message: p.event.message,
      type: p.event.type,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
      firstTimestamp: new Date(p.first),
      lastTimestamp: new Date(p.last),
      count: p.count,
    };
    try {
      await this.api.createNamespacedEvent({ namespace: target.namespace, body }, requestOptions() as never);
      this.written.set(p.key, { name, count: p.count });
      this.trim(this.written);
      this.stats.created++;
    } catch (err) {
      const f = apiFailure(err);
      this.stats.failed++;
      log.warn({ reason: p.event.reason, object: `${target.namespace}/${target.name}`, status: f.status, error: f.message }, 'event: could not write');
    }
  }
}
