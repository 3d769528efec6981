import { describe, expect, it } from 'vitest';
import type { Deployment, Pod, PodTemplateSpec, ReplicaSet, StatefulSet } from '../k8s/types.ts';
import { POD_DELETION_COST, deploymentPlan, rankForDeletion, replicaSetPlan, statefulSetOrdinal, statefulSetPlan } from './workload-controllers.ts';
import { podTemplateHash, statefulSetPod } from '../k8s/workloads.ts';

const NOW = Date.UTC(2026, 0, 5, 12);
const iso = (msAgo: number): string => new Date(NOW - msAgo).toISOString();
const template: PodTemplateSpec = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'web:1' }] } };

interface P { name: string; node?: string; phase?: string; ready?: boolean; readyAgo?: number; createdAgo?: number; restarts?: number; cost?: string; deleting?: boolean; uid?: string; labels?: Record<string, string> }
const pod = (p: P): Pod => ({
  metadata: {
    name: p.name, uid: p.uid ?? `uid-${p.name}`, labels: p.labels ?? { app: 'web' },
    ...(p.createdAgo !== undefined ? { creationTimestamp: iso(p.createdAgo) } : {}),
    ...(p.cost !== undefined ? { annotations: { [POD_DELETION_COST]: p.cost } } : {}),
    ...(p.deleting ? { deletionTimestamp: iso(0) } : {}),
  },
  spec: { containers: [{ name: 'c', image: 'web:1' }], ...(p.node ? { nodeName: p.node } : {}) },
  status: {
    phase: p.phase ?? (p.node ? 'Running' : 'Pending'),
    conditions: [{ type: 'Ready', status: p.ready ?? !!p.node ? 'True' : 'False', ...(p.readyAgo !== undefined ? { lastTransitionTime: iso(p.readyAgo) } : {}) } as never],
    containerStatuses: [{ name: 'c', restartCount: p.restarts ?? 0 }],
  },
});
const names = (pods: readonly Pod[]): string[] => pods.map((p) => p.metadata.name ?? '');
const HOUR = 3_600_000;

describe('the ReplicaSet controller: which pod goes first on scale-down (ActivePodsWithRanks)', () => {
  // Each row: the pods, the order Kubernetes deletes them. Rows marked "was" record where a former copy disagreed.
  const rows: { rule: string; pods: P[]; order: string[] }[] = [
    { rule: '1. unassigned before assigned', pods: [{ name: 'a', node: 'n1' }, { name: 'b' }], order: ['b', 'a'] },
    // was: the simulator ignored the phase (newest name first), the fake server ranked readiness only.
    { rule: '2. Pending < Unknown < Running', pods: [{ name: 'run', node: 'n1', phase: 'Running', ready: false }, { name: 'unk', node: 'n2', phase: 'Unknown', ready: false }, { name: 'pend', node: 'n3', phase: 'Pending', ready: false }], order: ['pend', 'unk', 'run'] },
    { rule: '3. not ready before ready', pods: [{ name: 'r', node: 'n1' }, { name: 'nr', node: 'n2', ready: false }], order: ['nr', 'r'] },
    // was: neither copy read pod-deletion-cost.
    { rule: '4. lower pod-deletion-cost first', pods: [{ name: 'dear', node: 'n1', cost: '100' }, { name: 'cheap', node: 'n2', cost: '-5' }, { name: 'none', node: 'n3' }], order: ['cheap', 'none', 'dear'] },
    // was: neither copy looked at co-location.
    { rule: '5. doubled up on a node first', pods: [{ name: 'alone', node: 'n1', createdAgo: 10 }, { name: 'pair1', node: 'n2', createdAgo: 5 * HOUR }, { name: 'pair2', node: 'n2', createdAgo: 6 * HOUR }], order: ['pair1', 'pair2', 'alone'] },
    { rule: '6. ready more recently first', pods: [{ name: 'old', node: 'n1', readyAgo: 10 * HOUR }, { name: 'new', node: 'n2', readyAgo: 60_000 }], order: ['new', 'old'] },
    // was: neither copy counted restarts.
    { rule: '7. more restarts first', pods: [{ name: 'calm', node: 'n1', restarts: 0 }, { name: 'crashy', node: 'n2', restarts: 7 }], order: ['crashy', 'calm'] },
    // was: the simulator took the later name, not the later creation.
    { rule: '8. created more recently first', pods: [{ name: 'z-old', node: 'n1', createdAgo: 10 * HOUR }, { name: 'a-new', node: 'n2', createdAgo: 60_000 }], order: ['a-new', 'z-old'] },
    { rule: '8. same power-of-two age bucket: the uid decides', pods: [{ name: 'x', node: 'n1', createdAgo: 70_000, uid: 'u2' }, { name: 'y', node: 'n2', createdAgo: 80_000, uid: 'u1' }], order: ['y', 'x'] },
  ];
  for (const r of rows) {
    it(r.rule, () => {
      expect(names(rankForDeletion(r.pods.map(pod), NOW))).toEqual(r.order);
    });
  }
});

describe('the ReplicaSet controller: replicas', () => {
  const rs: Pick<ReplicaSet, 'spec'> = { spec: { replicas: 3, template } };

  it('creates the missing pods and deletes the surplus in rank order', () => {
    expect(replicaSetPlan(rs, [pod({ name: 'a', node: 'n1' })], NOW)).toMatchObject({ create: 2, delete: [] });
    const five = ['a', 'b', 'c', 'd'].map((n, i) => pod({ name: n, node: `n${i}`, createdAgo: [10, 4, 2, 1][i]! * HOUR })).concat(pod({ name: 'e' }));
    expect(names(replicaSetPlan(rs, five, NOW).delete)).toEqual(['e', 'd']);
  });

  // was: the simulator counted every owned pod, so one the kubelet evicted (Failed) was never replaced.
  it('replaces finished and terminating pods: only active pods count, in the status too', () => {
    const pods = [pod({ name: 'a', node: 'n1' }), pod({ name: 'f', node: 'n1', phase: 'Failed', ready: false }), pod({ name: 't', node: 'n2', deleting: true })];
    const plan = replicaSetPlan(rs, pods, NOW);
    expect(plan.create).toBe(2);
    // was: the fake server counted the Failed pod in status.replicas.
    expect(plan.status).toEqual({ replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
  });

  it('fullyLabeledReplicas counts pods with every template label', () => {
    const plan = replicaSetPlan(rs, [pod({ name: 'a', node: 'n1' }), pod({ name: 'b', node: 'n1', labels: { other: 'x' } })], NOW);
    expect(plan.status.fullyLabeledReplicas).toBe(1);
  });
});

describe('the Deployment controller', () => {
  const d: Deployment = { metadata: { name: 'api', namespace: 'shop', uid: 'd-uid' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } };
  const hash = podTemplateHash(template);

  // was: the fake server hashed with sha256 and replaced vowels; the simulator used a random name part.
  it('runs its template in ReplicaSet <name>-<pod-template-hash> (FNV-32a, SafeEncodeString alphabet)', () => {
    const plan = deploymentPlan(d, []);
    expect(plan.name).toBe(`api-${hash}`);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(plan.createReplicaSet).toMatchObject({
      metadata: { name: `api-${hash}`, namespace: 'shop', labels: { app: 'web', 'pod-template-hash': hash }, ownerReferences: [{ kind: 'Deployment', name: 'api', uid: 'd-uid', controller: true }] },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: { metadata: { labels: { 'pod-template-hash': hash } } } },
    });
  });

  it('scales the current ReplicaSet to spec.replicas and the old ones to 0; status sums them', () => {
    const cur = { metadata: { name: `api-${hash}` }, spec: { replicas: 5, template }, status: { replicas: 2, readyReplicas: 1, availableReplicas: 1 } } as ReplicaSet;
    const old = { metadata: { name: 'api-old' }, spec: { replicas: 3, template }, status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } } as ReplicaSet;
    const plan = deploymentPlan(d, [cur, old]);
    expect(plan.createReplicaSet).toBeUndefined();
    expect(plan.scale).toEqual([{ name: `api-${hash}`, replicas: 2 }, { name: 'api-old', replicas: 0 }]);
    expect(plan.status).toEqual({ replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0 });
  });
});

describe('the StatefulSet controller', () => {
  const set = (replicas: number, extra: Partial<StatefulSet['spec']> = {}): StatefulSet => ({ metadata: { name: 'db', namespace: 'shop', uid: 's-uid' }, spec: { replicas, serviceName: 'db', template, ...extra } });
  const member = (ord: number, p: Partial<P> = {}): Pod => ({ ...pod({ name: `db-${ord}`, node: 'n1', ...p }) });

  it('names pods <set>-<ordinal> with the pod-name and pod-index labels, hostname and subdomain', () => {
    const p = statefulSetPod(set(1), 2);
    expect(p.metadata).toMatchObject({ name: 'db-2', namespace: 'shop', labels: { app: 'web', 'statefulset.kubernetes.io/pod-name': 'db-2', 'apps.kubernetes.io/pod-index': '2' }, ownerReferences: [{ kind: 'StatefulSet', name: 'db', uid: 's-uid', controller: true }] });
    expect(p.spec).toMatchObject({ hostname: 'db-2', subdomain: 'db' });
    expect([statefulSetOrdinal('db', 'db-10'), statefulSetOrdinal('db', 'db-x'), statefulSetOrdinal('db', 'dbx-1'), statefulSetOrdinal('db', 'db-01')]).toEqual([10, -1, -1, -1]);
  });

  // was: the simulator created every ordinal at once whatever the policy (Parallel only).
  it('OrderedReady (the default): one ordinal at a time, each after the lower ones are Running and Ready', () => {
    expect(statefulSetPlan(set(3), [])).toMatchObject({ create: [0], delete: [] });
    expect(statefulSetPlan(set(3), [member(0, { ready: false })]).create).toEqual([]);
    expect(statefulSetPlan(set(3), [member(0)]).create).toEqual([1]);
    expect(statefulSetPlan(set(3), [member(0), member(1, { deleting: true })])).toMatchObject({ create: [], waiting: 'db-1 is terminating' });
  });

  it('Parallel: every missing ordinal and every condemned pod at once', () => {
    expect(statefulSetPlan(set(3, { podManagementPolicy: 'Parallel' }), [member(1, { ready: false })]).create).toEqual([0, 2]);
    expect(statefulSetPlan(set(1, { podManagementPolicy: 'Parallel' }), [member(0), member(1), member(2)]).delete).toEqual(['db-2', 'db-1']);
  });

  // was: the simulator deleted every condemned pod at once.
  it('OrderedReady scale-down: the highest ordinal first, one at a time, only when the rest are healthy', () => {
    expect(statefulSetPlan(set(1), [member(0), member(1), member(2)]).delete).toEqual(['db-2']);
    expect(statefulSetPlan(set(1), [member(0, { ready: false }), member(1), member(2)]).delete).toEqual([]);
    expect(statefulSetPlan(set(1), [member(0), member(1), member(2, { deleting: true })]).delete).toEqual([]);
    // An unhealthy condemned pod may go when it is the first unhealthy one.
    expect(statefulSetPlan(set(1), [member(0), member(1), member(2, { ready: false })]).delete).toEqual(['db-2']);
  });

  // was: the simulator counted a Failed member as present and never replaced it.
  it('a failed member is deleted to be re-created', () => {
    expect(statefulSetPlan(set(2), [member(0, { phase: 'Failed', ready: false }), member(1)])).toMatchObject({ create: [], delete: ['db-0'] });
  });

  it('spec.ordinals.start shifts the ordinals; pods outside the range are condemned', () => {
    expect(statefulSetPlan(set(2, { ordinals: { start: 5 }, podManagementPolicy: 'Parallel' }), [member(0)])).toMatchObject({ create: [5, 6], delete: ['db-0'] });
  });

  it('status counts created, ready and available pods', () => {
    expect(statefulSetPlan(set(2), [member(0), member(1, { ready: false })]).status).toEqual({ replicas: 2, readyReplicas: 1, availableReplicas: 1, currentReplicas: 2, updatedReplicas: 2 });
  });
});
