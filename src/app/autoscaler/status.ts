/**
 * Status and events of the autoscaler: what each ScalingPolicy's status says (forecast,
 * recommendation, marks, recent actions, conditions) and the events on pods and policies.
 */
import type { ClusterWriter } from '../../ports/cluster.ts';
import type { Logger } from '../../ports/logger.ts';
import type { PolicyRef, ScalingPolicyStore } from '../../ports/scaling-policy.ts';
import type { Pod } from '../../core/k8s/types.ts';
import { MAX_ACTIONS, type PolicyAction, type PolicyCondition, type ScalingPolicy, type ScalingPolicyStatus } from '../../core/autoscale/policy.ts';

export const policyKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

export class PolicyReporter {
  constructor(
    private readonly o: { readonly writer: ClusterWriter; readonly policies: ScalingPolicyStore; readonly log: Logger; readonly now: () => number },
  ) {}

  /** One event on the pod and one on the policy. */
  async event(policy: ScalingPolicy, pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.o.writer.recordEvent({ involved: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, type, reason, message: `${message} (ScalingPolicy ${policy.name})` });
    await this.o.policies.recordEvent({ namespace: policy.namespace, name: policy.name }, type, reason, `${pod.metadata.name ?? ''}: ${message}`);
  }

  async invalid(p: { namespace: string; name: string; error: string }): Promise<void> {
    const ref: PolicyRef = { namespace: p.namespace, name: p.name };
    this.o.log.warn({ policy: policyKey(p), error: p.error }, 'invalid ScalingPolicy');
    const r = await this.o.policies.writeStatus(ref, {
      conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: p.error, lastTransitionTime: new Date(this.o.now()).toISOString() }],
    });
    if (!r.ok) this.o.log.warn({ policy: policyKey(p), error: r.error.message }, 'status not written');
  }

  /**
   * Replaces the status: `part` says what is true now (a field it leaves out is dropped, so
   * a forecast note of an earlier round never stays beside today's forecast); actions are
   * prepended to the recent ones; a condition keeps its transition time while its status holds.
   */
  async write(policy: ScalingPolicy, part: Pick<ScalingPolicyStatus, 'forecast' | 'recommendation' | 'marks'>, actions: readonly PolicyAction[], conditions: readonly Omit<PolicyCondition, 'lastTransitionTime'>[]): Promise<void> {
    const now = new Date(this.o.now()).toISOString();
    const old = policy.status.conditions ?? [];
    const conds: PolicyCondition[] = conditions.map((c) => {
      const prev = old.find((o) => o.type === c.type);
      return { ...c, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
    });
    const status: ScalingPolicyStatus = {
      ...(part.forecast ? { forecast: part.forecast } : {}),
      ...(part.recommendation ? { recommendation: part.recommendation } : {}),
      ...(part.marks ? { marks: part.marks } : {}),
      observedGeneration: policy.generation,
      lastRunTime: now,
      lastActions: [...[...actions].reverse(), ...(policy.status.lastActions ?? [])].slice(0, MAX_ACTIONS),
      conditions: conds,
    };
    const r = await this.o.policies.writeStatus({ namespace: policy.namespace, name: policy.name }, status);
    if (!r.ok) this.o.log.warn({ policy: policyKey(policy), error: r.error.message }, 'status not written');
  }
}
