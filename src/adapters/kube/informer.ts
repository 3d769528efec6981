import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import { Backoff } from './backoff.ts';
import { apiFailure } from './errors.ts';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(obj: T): void;
  delete?(obj: T): void;
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  readonly kc: KubeConfig;
  /** Watch path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly handlers: InformerHandlers<T>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff?: { initialMs: number; maxMs: number };
}

/**
 * An informer (client-node's ListWatch) that never gives up. ListWatch already relists
 * when the server answers 410 Gone (the resourceVersion fell out of the watch window,
 * e.g. after an API server restart) and re-watches when a watch ends normally; on any
 * other error it stops and reports, so we restart it after an exponential backoff, as
 * client-go's reflector does (backoff 800 ms .. 30 s, reset once a list succeeds).
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer;
  private readonly backoff: Backoff;
  private stopped = false;
  private syncedOnce = false;
  private readonly waiters: (() => void)[] = [];
  private restart: AbortController | undefined;
  /** How many times the informer had to be restarted after an error (for tests and metrics). */
  restarts = 0;

  constructor(private readonly options: ResilientInformerOptions<T>) {
    this.backoff = new Backoff(options.backoff ?? { initialMs: 800, maxMs: 30_000 });
    // Objects from a typed list call carry Date instances; watch events carry JSON. Normalise to JSON.
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      this.backoff.reset();
      const items = (JSON.parse(JSON.stringify(result.items ?? [])) as T[]) ?? [];
      // ListWatch hands the items to the handlers right after this promise settles.
      setImmediate(() => this.markSynced());
      return { ...result, items };
    };
    this.informer = makeInformer<T>(options.kc, options.path, list, options.labelSelector);
    const { handlers } = options;
    if (handlers.add) this.informer.on('add', handlers.add);
    if (handlers.update) this.informer.on('update', handlers.update);
    if (handlers.delete) this.informer.on('delete', handlers.delete);
    this.informer.on('error', (err: unknown) => void this.onError(err));
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start().catch((err: unknown) => this.onError(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restart?.abort();
    await this.informer.stop();
  }

  /** Resolves once the first list has been delivered to the handlers. */
  synced(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get hasSynced(): boolean {
    return this.syncedOnce;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  private markSynced(): void {
    if (this.syncedOnce) return;
    this.syncedOnce = true;
    for (const w of this.waiters.splice(0)) w();
  }

  private async onError(err: unknown): Promise<void> {
    if (this.stopped) return;
    const f = apiFailure(err);
    const delay = this.backoff.next();
    this.options.log.warn({ path: this.options.path, status: f.status, error: f.message, retryInMs: delay }, 'watch failed; reconnecting');
    this.restart = new AbortController();
    try {
      await this.options.clock.sleep(delay, this.restart.signal);
    } catch {
      return;
    }
    if (this.stopped) return;
    this.restarts += 1;
    await this.informer.start().catch((e: unknown) => this.onError(e));
  }
}
