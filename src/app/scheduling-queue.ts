/**
 * The scheduling queue of kube-scheduler (pkg/scheduler/backend/queue/scheduling_queue.go),
 * reduced to what polyarch needs:
 * - activeQ: pods ready to be tried, highest priority first, then the oldest;
 * - backoffQ: pods that failed, waiting out a backoff of initial * 2^(attempts-1)
 *   capped at max (kube-scheduler defaults 1 s and 10 s);
 * - unschedulable: pods no node could take; they stay until a cluster event that might
 *   help (node added or changed, pod deleted) moves them back, or until
 *   `maxUnschedulableMs` passes (kube-scheduler: 5 min) as a safety net.
 * Time is passed in (`now`), so the queue is deterministic.
 */
export interface QueuedPod {
  readonly key: string;
  priority: number;
  /** When the pod entered the queue first (for end-to-end latency). */
  readonly firstSeen: number;
  /** When it was last added to activeQ (ties broken by it, oldest first). */
  enqueued: number;
  attempts: number;
  backoffUntil: number;
  unschedulableSince: number;
}

export interface QueueOptions {
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxUnschedulableMs?: number;
}

type Where = 'active' | 'backoff' | 'unschedulable' | 'in-flight' | 'gated';

export class SchedulingQueue {
  private readonly active = new Heap<QueuedPod>((a, b) => b.priority - a.priority || a.enqueued - b.enqueued || (a.key < b.key ? -1 : 1));
  private readonly backoff = new Heap<QueuedPod>((a, b) => a.backoffUntil - b.backoffUntil || (a.key < b.key ? -1 : 1));
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly where = new Map<string, Where>();
  private readonly pods = new Map<string, QueuedPod>();
  /** Keys removed while in flight: do not requeue them when their attempt ends. */
  private readonly deleted = new Set<string>();
  /** A move request arrived while these were in flight: requeue them as active. */
  private readonly movedWhileInFlight = new Set<string>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;

  constructor(options: QueueOptions = {}) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = options.maxUnschedulableMs ?? 300_000;
  }

  /** A new or changed pending pod; an unknown key goes to activeQ. */
  add(key: string, priority: number, now: number): void {
    const existing = this.pods.get(key);
    this.deleted.delete(key);
    if (existing) {
      existing.priority = priority;
      // An update to an unschedulable pod may make it schedulable (kube-scheduler: Update).
      if (this.where.get(key) === 'unschedulable') {
        this.unschedulable.delete(key);
        this.toBackoffOrActive(existing, now);
      }
      return;
    }
    const qp: QueuedPod = { key, priority, firstSeen: now, enqueued: now, attempts: 0, backoffUntil: 0, unschedulableSince: 0 };
    this.pods.set(key, qp);
    this.pushActive(qp, now);
  }

  /** The pod was bound or deleted: forget it. */
  delete(key: string): void {
    const w = this.where.get(key);
    if (w === undefined) return;
    if (w === 'in-flight') {
      this.deleted.add(key);
      return;
    }
    if (w === 'gated') {
      this.where.delete(key);
      this.pods.delete(key);
      return;
    }
    if (w === 'active') this.active.remove((p) => p.key === key);
    else if (w === 'backoff') this.backoff.remove((p) => p.key === key);
    else this.unschedulable.delete(key);
    this.where.delete(key);
    this.pods.delete(key);
  }

  has(key: string): boolean {
    return this.where.has(key);
  }

  /** The next pod to try, or undefined when none is ready at `now`. */
  pop(now: number): QueuedPod | undefined {
    this.flush(now);
    const qp = this.active.pop();
    if (!qp) return undefined;
    qp.attempts += 1;
    this.where.set(qp.key, 'in-flight');
    return qp;
  }

  /** The attempt succeeded (bound): the pod leaves the queue. */
  done(key: string): void {
    this.where.delete(key);
    this.pods.delete(key);
    this.deleted.delete(key);
    this.movedWhileInFlight.delete(key);
  }

  /**
   * The attempt failed. `unschedulable`: no node fits, wait for a cluster event;
   * otherwise (error, conflict, registry down) retry after the backoff.
   */
  requeue(key: string, unschedulable: boolean, now: number): void {
    const qp = this.pods.get(key);
    if (!qp) return;
    if (this.deleted.delete(key)) {
      this.done(key);
      return;
    }
    if (this.movedWhileInFlight.delete(key) || !unschedulable) {
      this.toBackoffOrActive(qp, now);
      return;
    }
    qp.unschedulableSince = now;
    this.unschedulable.set(key, qp);
    this.where.set(key, 'unschedulable');
  }

  /**
   * The attempt could not start (its images are still being looked up): hold the pod
   * aside, without counting an attempt, until `ungate`.
   */
  gate(key: string): void {
    const qp = this.pods.get(key);
    if (!qp) return;
    if (this.deleted.delete(key)) {
      this.done(key);
      return;
    }
    qp.attempts = Math.max(0, qp.attempts - 1);
    this.where.set(key, 'gated');
  }

  /** A gated pod may be tried again now. */
  ungate(key: string, now: number): void {
    const qp = this.pods.get(key);
    if (!qp || this.where.get(key) !== 'gated') return;
    this.pushActive(qp, now);
  }

  /** A cluster event that may help: every unschedulable pod goes back (after its backoff). */
  moveAllToActiveOrBackoff(now: number): number {
    let moved = 0;
    for (const [key, qp] of this.unschedulable) {
      this.unschedulable.delete(key);
      this.toBackoffOrActive(qp, now);
      moved++;
    }
    for (const [key, w] of this.where) if (w === 'in-flight') this.movedWhileInFlight.add(key);
    return moved;
  }

  /** When the next backoff or unschedulable timeout expires (for the loop to sleep until). */
  nextWakeAt(): number | undefined {
    let next = this.backoff.peek()?.backoffUntil;
    for (const qp of this.unschedulable.values()) {
      const t = qp.unschedulableSince + this.maxUnschedulableMs;
      if (next === undefined || t < next) next = t;
    }
    return next;
  }

  get activeCount(): number {
    return this.active.size;
  }

  get size(): number {
    return this.where.size;
  }

  counts(): { active: number; backoff: number; unschedulable: number; inFlight: number; gated: number } {
    let inFlight = 0;
    let gated = 0;
    for (const w of this.where.values()) {
      if (w === 'in-flight') inFlight++;
      else if (w === 'gated') gated++;
    }
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, inFlight, gated };
  }

  private flush(now: number): void {
    for (let head = this.backoff.peek(); head && head.backoffUntil <= now; head = this.backoff.peek()) {
      this.backoff.pop();
      this.pushActive(head, now);
    }
    for (const [key, qp] of this.unschedulable) {
      if (now - qp.unschedulableSince >= this.maxUnschedulableMs) {
        this.unschedulable.delete(key);
        this.pushActive(qp, now);
      }
    }
  }

  private toBackoffOrActive(qp: QueuedPod, now: number): void {
    const delay = qp.attempts === 0 ? 0 : Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (qp.attempts - 1));
    qp.backoffUntil = now + delay;
    if (qp.backoffUntil <= now) this.pushActive(qp, now);
    else {
      this.backoff.push(qp);
      this.where.set(qp.key, 'backoff');
    }
  }

  private pushActive(qp: QueuedPod, now: number): void {
    qp.enqueued = now;
    this.active.push(qp);
    this.where.set(qp.key, 'active');
  }
}

/** A binary heap; `less(a, b) < 0` puts a first. */
class Heap<T> {
  private items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  remove(match: (t: T) => boolean): void {
    const i = this.items.findIndex(match);
    if (i < 0) return;
    const last = this.items.pop();
    if (i < this.items.length && last !== undefined) {
      this.items[i] = last;
      this.down(i);
      this.up(i);
    }
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const a = items[i] as T;
      const b = items[p] as T;
      if (this.less(a, b) >= 0) break;
      items[i] = b;
      items[p] = a;
      i = p;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.less(items[l] as T, items[m] as T) < 0) m = l;
      if (r < items.length && this.less(items[r] as T, items[m] as T) < 0) m = r;
      if (m === i) break;
      const t = items[i] as T;
      items[i] = items[m] as T;
      items[m] = t;
      i = m;
    }
  }
}
