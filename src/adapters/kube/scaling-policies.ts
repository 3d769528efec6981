/**
 * ScalingPolicy objects (polyarch.io/v1alpha1) on the API server: listed across
 * namespaces, validated with the core schema, status written through the status
 * subresource (merge patch), events recorded against the policy.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { parseScalingPolicy, POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION, type ParsedPolicy, type ScalingPolicyStatus } from '../../core/autoscale/policy.ts';
import type { Clock } from '../../ports/clock.ts';
import type { WriteResult } from '../../ports/cluster.ts';
import type { Logger } from '../../ports/logger.ts';
import type { PolicyRef, ScalingPolicyStore } from '../../ports/scaling-policy.ts';
import { apiFailure } from './errors.ts';
import { EventRecorder } from './events.ts';

export class KubeScalingPolicyStore implements ScalingPolicyStore {
  private readonly custom: CustomObjectsApi;
  private readonly events: EventRecorder;
  private readonly uids = new Map<string, string>();

  constructor(
    kc: KubeConfig,
    private readonly opts: { clock: Clock; log: Logger; dryRun?: boolean; instance?: string },
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.events = new EventRecorder(kc, { component: 'polyarch-autoscaler', instance: opts.instance ?? 'polyarch', clock: opts.clock, log: opts.log, dryRun: opts.dryRun ?? false });
  }

  async list(): Promise<readonly ParsedPolicy[]> {
    const list = (await this.custom.listClusterCustomObject({ group: POLICY_GROUP, version: POLICY_VERSION, plural: POLICY_PLURAL })) as { items?: { metadata?: { namespace?: string; name?: string; uid?: string } }[] };
    return (list.items ?? []).map((o) => {
      if (o.metadata?.uid) this.uids.set(`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`, o.metadata.uid);
      return parseScalingPolicy(o);
    });
  }

  /** Replaces the status (see `replacing`). */
  async writeStatus(ref: PolicyRef, status: ScalingPolicyStatus): Promise<WriteResult> {
    if (this.opts.dryRun) {
      this.opts.log.info({ policy: `${ref.namespace}/${ref.name}`, dryRun: true }, 'dry run: status not written');
      return { ok: true, value: undefined };
    }
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        { group: POLICY_GROUP, version: POLICY_VERSION, namespace: ref.namespace, plural: POLICY_PLURAL, name: ref.name, body: { status: replacing(status) } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return { ok: true, value: undefined };
    } catch (err) {
      const f = apiFailure(err);
      const message = `scalingpolicy ${ref.namespace}/${ref.name} status: ${f.message}`;
      return { ok: false, error: { kind: f.status === 404 ? 'not-found' : f.status === 409 ? 'conflict' : f.status === 422 || f.status === 400 ? 'invalid' : f.status === 403 ? 'forbidden' : 'unavailable', message } };
    }
  }

  /** Queues the event (written in the background, see EventRecorder). */
  recordEvent(ref: PolicyRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const uid = this.uids.get(`${ref.namespace}/${ref.name}`);
    this.events.record({ target: { kind: 'ScalingPolicy', apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`, namespace: ref.namespace, name: ref.name, ...(uid ? { uid } : {}) }, type, reason, message });
    return Promise.resolve();
  }

  /** Resolves when the events recorded so far are written. */
  flushEvents(): Promise<void> {
    return this.events.flush();
  }
}

/**
 * A JSON merge patch keeps every key it does not mention: a forecast `note` written while
 * an application was starting would stay beside the forecasts of every later round. The
 * status is the autoscaler's to say in full, so every field it writes is sent, as null
 * when it is not true now (merge patch deletes a null).
 */
export function replacing(status: ScalingPolicyStatus): Record<string, unknown> {
  const f = status.forecast;
  return {
    ...status,
    forecast: f ? { horizonMinutes: f.horizonMinutes, cpu: f.cpu ?? null, memory: f.memory ?? null, headroom: f.headroom ?? null, note: f.note ?? null } : null,
    recommendation: status.recommendation ?? null,
    marks: status.marks ?? null,
  };
}
