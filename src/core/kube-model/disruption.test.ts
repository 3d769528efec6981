import { describe, expect, it } from 'vitest';
import type { Pod, PodDisruptionBudget } from '../k8s/types.ts';
import { disruptionNumbers, evictionAllowed, ignoresBudgets } from './disruption.ts';

const pod = (name: string, o: { owner?: string; ready?: boolean; phase?: string; deleting?: boolean } = {}): Pod => ({
  metadata: {
    name, namespace: 'shop',
    ...(o.owner ? { ownerReferences: [{ kind: 'Deployment', name: o.owner, uid: `${o.owner}-uid`, controller: true }] } : {}),
    ...(o.deleting ? { deletionTimestamp: '2026-01-05T00:00:00Z' } : {}),
  },
  spec: { containers: [{ name: 'c', image: 'x' }] },
  status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const pdb = (spec: PodDisruptionBudget['spec']): PodDisruptionBudget => ({ metadata: { name: 'b', namespace: 'shop' }, spec });
const scale = (n: number) => () => n;

describe('the disruption controller (one model for the simulator and the fake API server)', () => {
  const three = [pod('a', { owner: 'web' }), pod('b', { owner: 'web' }), pod('c', { owner: 'web', ready: false })];
  // Each row: the budget, the pods' controller scale, the numbers. "was" marks where a former copy disagreed.
  const rows: { what: string; spec: PodDisruptionBudget['spec']; scale: number; pods?: Pod[]; want: object }[] = [
    { what: 'minAvailable int: against the matching pods', spec: { minAvailable: 1 }, scale: 5, want: { expectedPods: 3, currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 } },
    // was: the fake server counted a Deployment's live pods, not its spec.replicas.
    { what: 'maxUnavailable: against the controller scale (a pod already gone counts as unavailable)', spec: { maxUnavailable: 1 }, scale: 4, want: { expectedPods: 4, desiredHealthy: 3, disruptionsAllowed: 0 } },
    { what: 'percentages round up', spec: { minAvailable: '50%' }, scale: 3, want: { expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 0 } },
    // A percentage minAvailable counts against the controller's scale (5), not the 3 pods there are: ceil(2.5) = 3.
    { what: 'a percentage minAvailable: against the controller scale', spec: { minAvailable: '50%' }, scale: 5, want: { expectedPods: 5, desiredHealthy: 3, disruptionsAllowed: 0 } },
    { what: 'terminating pods are not healthy', spec: { minAvailable: 1 }, scale: 2, pods: [pod('a', { owner: 'web', deleting: true }), pod('b', { owner: 'web' })], want: { currentHealthy: 1, disruptionsAllowed: 0 } },
    // was: the fake server read a missing minAvailable as 1.
    { what: 'neither: nothing required', spec: {}, scale: 3, want: { desiredHealthy: 0, disruptionsAllowed: 2 } },
    // was: both counted a bare pod as one.
    // Scale 1, two healthy pods: without the fail-safe two disruptions would be allowed.
    { what: 'a bare pod under a scale-based budget: fail safe', spec: { maxUnavailable: 1 }, scale: 1, pods: [pod('solo'), pod('a', { owner: 'web' })], want: { currentHealthy: 2, disruptionsAllowed: 0, error: 'found no controller ref for pod solo' } },
  ];
  for (const r of rows) {
    it(r.what, () => {
      expect(disruptionNumbers(pdb(r.spec), r.pods ?? three, scale(r.scale))).toMatchObject(r.want);
    });
  }

  it('eviction: a Ready pod spends a disruption; an unready one may go while the budget is met (IfHealthyBudget) or always (AlwaysAllow)', () => {
    const b = pdb({ minAvailable: 2 });
    const n = disruptionNumbers(b, three, scale(3));
    expect(n.disruptionsAllowed).toBe(0);
    expect(evictionAllowed(b, n, three[0]!)).toBe(false);
    expect(evictionAllowed(b, n, three[2]!)).toBe(true);
    const short = disruptionNumbers(pdb({ minAvailable: 3 }), three, scale(3));
    expect(evictionAllowed(pdb({ minAvailable: 3 }), short, three[2]!)).toBe(false);
    expect(evictionAllowed(pdb({ minAvailable: 3, unhealthyPodEvictionPolicy: 'AlwaysAllow' }), short, three[2]!)).toBe(true);
  });

  // was: the simulator checked budgets for every pod.
  it('pods Pending, finished or terminating go without looking at budgets', () => {
    expect([pod('p', { phase: 'Pending' }), pod('f', { phase: 'Failed' }), pod('t', { deleting: true }), pod('r')].map(ignoresBudgets)).toEqual([true, true, true, false]);
  });
});
