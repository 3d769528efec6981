/** ScalingPolicy objects in memory, for the simulator: the same store port the API server adapter implements. */
import { parseScalingPolicy, type ParsedPolicy, type ScalingPolicyStatus } from '../core/autoscale/policy.ts';
import type { WriteResult } from '../ports/cluster.ts';
import type { PolicyRef, ScalingPolicyStore } from '../ports/scaling-policy.ts';

export class MemoryPolicyStore implements ScalingPolicyStore {
  private readonly objects = new Map<string, { metadata: { namespace: string; name: string; generation: number }; spec: unknown; status: ScalingPolicyStatus }>();
  readonly events: { ref: PolicyRef; type: string; reason: string; message: string }[] = [];

  constructor(policies: readonly { namespace: string; name: string; spec: unknown }[]) {
    for (const p of policies) this.objects.set(`${p.namespace}/${p.name}`, { metadata: { namespace: p.namespace, name: p.name, generation: 1 }, spec: p.spec, status: {} });
  }

  async list(): Promise<readonly ParsedPolicy[]> {
    return [...this.objects.values()].map((o) => parseScalingPolicy(o));
  }

  async writeStatus(ref: PolicyRef, status: ScalingPolicyStatus): Promise<WriteResult> {
    const o = this.objects.get(`${ref.namespace}/${ref.name}`);
    if (!o) return { ok: false, error: { kind: 'not-found', message: `scalingpolicy ${ref.namespace}/${ref.name} not found` } };
    o.status = status;
    return { ok: true, value: undefined };
  }

  async recordEvent(ref: PolicyRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    // Bounded: a long simulation must not keep every event (the oldest half dropped at once, not one shift per event).
    if (this.events.length >= 20_000) this.events.splice(0, 10_000);
    this.events.push({ ref, type, reason, message });
  }

  status(namespace: string, name: string): ScalingPolicyStatus | undefined {
    return this.objects.get(`${namespace}/${name}`)?.status;
  }
}
