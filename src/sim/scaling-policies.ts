/**
 * ScalingPolicy objects in memory, for the simulator: the same store port the API server
 * adapter implements. A spec is validated once, when the object is stored (the simulator
 * never changes a spec); the status handed back is the one the autoscaler last wrote (typed
 * already: nothing from outside to validate), so a round does not parse every policy again.
 */
import { parseScalingPolicy, type ParsedPolicy, type ScalingPolicyStatus } from '../core/autoscale/policy.ts';
import type { WriteResult } from '../ports/cluster.ts';
import type { PolicyRef, ScalingPolicyStore } from '../ports/scaling-policy.ts';

export class MemoryPolicyStore implements ScalingPolicyStore {
  private readonly objects = new Map<string, { parsed: ParsedPolicy; status: ScalingPolicyStatus }>();
  readonly events: { ref: PolicyRef; type: string; reason: string; message: string }[] = [];

  constructor(policies: readonly { namespace: string; name: string; spec: unknown }[]) {
    for (const p of policies) {
      const parsed = parseScalingPolicy({ metadata: { namespace: p.namespace, name: p.name, generation: 1 }, spec: p.spec, status: {} });
      this.objects.set(`${p.namespace}/${p.name}`, { parsed, status: {} });
    }
  }

  async list(): Promise<readonly ParsedPolicy[]> {
    const out: ParsedPolicy[] = [];
    for (const o of this.objects.values()) out.push(o.parsed.ok ? { ok: true, value: { ...o.parsed.value, status: o.status } } : o.parsed);
    return out;
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
