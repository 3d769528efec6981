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

/**
 * Writes core/v1 Events the way client-go's EventRecorder does: one Event per
 * (object, type, reason, message), named `<object>.<hex time>`, and repeats folded
 * into it by bumping `count` and `lastTimestamp` (the event correlator), so a pod that
 * fails every cycle does not flood etcd. An event that cannot be written is logged and
 * dropped: events are best effort, never a reason to stop scheduling.
 */
export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly seen = new Map<string, { name: string; count: number }>();
  private sequence = 0;

  constructor(
    kc: KubeConfig,
    private readonly options: { component: string; instance: string; clock: Clock; log: Logger; dryRun?: boolean; maxTracked?: number },
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  async record(event: RecordedEvent): Promise<void> {
    const { clock, log } = this.options;
    const { target } = event;
    log.info({ object: `${target.kind.toLowerCase()}/${target.namespace}/${target.name}`, reason: event.reason, type: event.type }, event.message);
    if (this.options.dryRun) return;
    const key = `${target.uid ?? ''}|${target.namespace}/${target.name}|${event.type}|${event.reason}|${event.message}`;
    const now = new Date(clock.now());
    const previous = this.seen.get(key);
    if (previous) {
      try {
        await this.api.patchNamespacedEvent({
          name: previous.name,
          namespace: target.namespace,
          body: [
            { op: 'replace', path: '/count', value: previous.count + 1 },
            { op: 'replace', path: '/lastTimestamp', value: now.toISOString() },
          ],
        }, requestOptions() as never);
        previous.count += 1;
        return;
      } catch (err) {
        // Gone (TTL expired) or never written: fall through and create a fresh one.
        log.debug({ error: apiFailure(err).message }, 'event: update failed, creating anew');
        this.seen.delete(key);
      }
    }
    this.sequence += 1;
    const name = `${target.name}.${(clock.now() * 1000 + (this.sequence % 1000)).toString(16)}`;
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: target.namespace },
      involvedObject: { kind: target.kind, apiVersion: target.apiVersion ?? 'v1', namespace: target.namespace, name: target.name, uid: target.uid },
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.api.createNamespacedEvent({ namespace: target.namespace, body }, requestOptions() as never);
      this.seen.set(key, { name, count: 1 });
      const max = this.options.maxTracked ?? 4096;
      if (this.seen.size > max) {
        const oldest = this.seen.keys().next();
        if (!oldest.done) this.seen.delete(oldest.value);
      }
    } catch (err) {
      const f = apiFailure(err);
      log.warn({ reason: event.reason, object: `${target.namespace}/${target.name}`, status: f.status, error: f.message }, 'event: could not write');
    }
  }
}
