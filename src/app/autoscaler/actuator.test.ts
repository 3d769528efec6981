/**
 * The actuator decides once per pod sizing where a pod's decision changes nothing (the
 * round's fast path): every pod must still get what decidePod says for it alone, its
 * node's room and its resize state included.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Actuator } from './actuator.ts';
import { PolicyReporter } from './status.ts';
import { parseScalingPolicy, type ScalingPolicy } from '../../core/autoscale/policy.ts';
import { decidePod, type ResizeState } from '../../core/autoscale/decide.ts';
import type { AppPlan } from '../../core/scaling/types.ts';
import type { Pod } from '../../core/k8s/types.ts';
import type { ClusterWriter } from '../../ports/cluster.ts';
import type { ScalingPolicyStore } from '../../ports/scaling-policy.ts';
import { noAutoscalerTelemetry } from '../../ports/scaling-policy.ts';
import { silentLogger } from '../../ports/logger.ts';

const Mi = 2 ** 20;

function policyOf(mode: 'InPlace' | 'Recommend'): ScalingPolicy {
  const p = parseScalingPolicy({ metadata: { name: 'web', namespace: 'default', generation: 1 }, spec: { targetRef: { kind: 'Deployment', name: 'web' }, mode } });
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

interface PodCase {
  readonly cpuMilli: number;
  readonly memMi: number;
  readonly node: number;
  readonly resize: 'none' | 'in-progress' | 'infeasible';
}

function podOf(i: number, c: PodCase): Pod {
  const conditions =
    c.resize === 'in-progress' ? [{ type: 'PodResizeInProgress', status: 'True' }] : c.resize === 'infeasible' ? [{ type: 'PodResizePending', status: 'True', reason: 'Infeasible', message: 'too big' }] : [];
  return {
    metadata: { name: `web-${String(i).padStart(3, '0')}`, namespace: 'default', ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] },
    spec: { nodeName: `n${c.node}`, containers: [{ name: 'app', image: 'web', resources: { requests: { cpu: `${c.cpuMilli}m`, memory: `${c.memMi}Mi` }, limits: { cpu: `${2 * c.cpuMilli}m`, memory: `${2 * c.memMi}Mi` } } }] },
    status: { phase: 'Running', conditions },
  } as unknown as Pod;
}

function actuator(): { act: Actuator; resized: string[] } {
  const resized: string[] = [];
  // Writes fail, so the nodes' room stays what the test set and the pods stay as built.
  const writer = {
    resizePod: async (ref: { name: string }) => ((resized.push(ref.name)), { ok: false, error: { kind: 'conflict', message: 'test' } }),
    evictPod: async () => ({ ok: false, kind: 'refused', message: 'test' }),
    recordEvent: async () => undefined,
  } as unknown as ClusterWriter;
  const policies = { writeStatus: async () => ({ ok: true, value: undefined }), recordEvent: async () => undefined } as unknown as ScalingPolicyStore;
  const reporter = new PolicyReporter({ writer, policies, log: silentLogger, now: () => 0 });
  return { act: new Actuator({ writer, telemetry: noAutoscalerTelemetry, reporter, minChange: { cpu: 0.1, memory: 0.05 }, now: () => 0, limits: 'RequestsAndLimits', usageMinutes: 60 }), resized };
}

const STATES: Record<PodCase['resize'], ResizeState> = { none: { kind: 'none' }, 'in-progress': { kind: 'in-progress' }, infeasible: { kind: 'infeasible', message: 'too big' } };

describe('Actuator.act', () => {
  it('gives every pod the decision decidePod makes for it alone (property: sizings shared by many pods, nodes with and without room)', async () => {
    const podCase = fc.record({
      cpuMilli: fc.constantFrom(200, 250, 300),
      memMi: fc.constantFrom(256, 300),
      node: fc.integer({ min: 0, max: 3 }),
      resize: fc.constantFrom<PodCase['resize']>('none', 'none', 'none', 'in-progress', 'infeasible'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(podCase, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 150, max: 400 }),
        fc.integer({ min: 200, max: 400 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 4, maxLength: 4 }),
        fc.constantFrom<'InPlace' | 'Recommend'>('InPlace', 'Recommend'),
        async (cases, targetMilli, targetMi, freeMilli, mode) => {
          const policy = policyOf(mode);
          const pods = cases.map((c, i) => podOf(i, c));
          const free = () => new Map(freeMilli.map((f, n) => [`n${n}`, { cpu: f / 1000, memory: 64 * Mi }]));
          const window = { cpu: [0.1, 0.2], mem: [150 * Mi, 160 * Mi], net: [0, 0], disk: [0, 0], firstMs: 0, lastMinuteMs: 60_000 };
          const ap = { allocation: { cpu: (targetMilli / 1000) * pods.length, memory: targetMi * Mi * pods.length, network: 0, disk: 0 }, actions: [] } as unknown as AppPlan;
          const { act } = actuator();
          const out = await act.act({ policy, key: 'default/web', apps: ['default/web'], pods, window, perPod: { cpu: 0.2, memory: 256 * Mi } }, ap, free());
          expect(out.pods).toHaveLength(pods.length);
          const room = free();
          cases.forEach((c, i) => {
            const expected = decidePod({
              containers: [{ name: 'app', request: { cpu: c.cpuMilli / 1000, memory: c.memMi * Mi }, limit: { cpu: (2 * c.cpuMilli) / 1000, memory: 2 * c.memMi * Mi }, min: {}, max: {}, restartOn: [] }],
              target: { cpu: targetMilli / 1000, memory: targetMi * Mi },
              manage: policy.spec.resources,
              usage: { cpu: 0.2, memory: 160 * Mi },
              memoryMargin: policy.spec.memoryMargin,
              nodeFree: room.get(`n${c.node}`)!,
              resize: STATES[c.resize],
              minChange: { cpu: 0.1, memory: 0.05 },
              allowRestart: false,
              controlledValues: 'RequestsAndLimits',
            });
            expect(out.pods[i]!.decision).toEqual(expected);
            expect(out.pods[i]!.pod).toBe(`default/${pods[i]!.metadata.name}`);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('pods of one sizing within the band share one decision that changes nothing; a pod that changes gets its own', async () => {
    const policy = policyOf('InPlace');
    const pods = [podOf(0, { cpuMilli: 200, memMi: 256, node: 0, resize: 'none' }), podOf(1, { cpuMilli: 200, memMi: 256, node: 1, resize: 'none' }), podOf(2, { cpuMilli: 100, memMi: 256, node: 1, resize: 'none' })];
    const window = { cpu: [0.1], mem: [100 * Mi], net: [0], disk: [0], firstMs: 0, lastMinuteMs: 60_000 };
    // 205m and 256Mi per pod: within the 10 % band of 200m, 105 % of 100m.
    const ap = { allocation: { cpu: 0.205 * 3, memory: 256 * Mi * 3, network: 0, disk: 0 }, actions: [] } as unknown as AppPlan;
    const { act, resized } = actuator();
    const out = await act.act({ policy, key: 'default/web', apps: ['default/web'], pods, window, perPod: { cpu: 0.2, memory: 256 * Mi } }, ap, new Map([['n0', { cpu: 1, memory: Mi * 1024 }], ['n1', { cpu: 1, memory: Mi * 1024 }]]));
    expect(out.pods.map((o) => [o.decision.kind, o.done])).toEqual([['none', 'nothing'], ['none', 'nothing'], ['resize', 'failed']]);
    expect(out.pods[1]!.decision).toBe(out.pods[0]!.decision);
    expect(out.pods[0]!.decision.containers[0]!.requests).toEqual({ cpu: 0.2, memory: 256 * Mi });
    expect(resized).toEqual(['web-002']);
  });
});
