import { describe, expect, it } from 'vitest';
import { makeNode, makePod } from '../../../test/builders/index.ts';
import type { DaemonSet, Deployment, Job, PodTemplateSpec, StatefulSet } from './types.ts';
import { expandDaemonSet, expandDeployment, expandJob, expandStatefulSet, expandWorkloads, podTemplateHash, queueOrder } from './workloads.ts';
import { podPriority } from './priority.ts';

const template: PodTemplateSpec = { metadata: { labels: { app: 'web' } }, spec: makePod().image('shop/web:1.4').build().spec };

describe('workload expansion', () => {
  it('a Deployment becomes replicas pods named rs-hash-suffix, owned by the ReplicaSet', () => {
    const d: Deployment = { kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 3, template } };
    const pods = expandDeployment(d);
    const hash = podTemplateHash(template);
    expect(pods).toHaveLength(3);
    expect(new Set(pods.map((p) => p.metadata.name)).size).toBe(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata.namespace).toBe('shop');
      expect(p.metadata.labels).toMatchObject({ app: 'web', 'pod-template-hash': hash });
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: `web-${hash}` });
    }
    // deterministic: the same input gives the same names
    expect(expandDeployment(d).map((p) => p.metadata.name)).toEqual(pods.map((p) => p.metadata.name));
    expect(expandDeployment({ ...d, spec: { template } })).toHaveLength(1); // replicas defaults to 1
    expect(expandDeployment({ ...d, spec: { replicas: 0, template } })).toHaveLength(0);
  });

  it('a StatefulSet becomes name-0..n-1', () => {
    const s: StatefulSet = { metadata: { name: 'db' }, spec: { replicas: 3, template } };
    expect(expandStatefulSet(s).map((p) => p.metadata.name)).toEqual(['db-0', 'db-1', 'db-2']);
    expect(expandStatefulSet({ ...s, spec: { ...s.spec, ordinals: { start: 5 }, replicas: 1 } })[0]?.metadata.name).toBe('db-5');
  });

  it('a Job runs min(parallelism, completions) pods; a suspended one none', () => {
    const j: Job = { metadata: { name: 'etl' }, spec: { parallelism: 4, completions: 2, template } };
    expect(expandJob(j)).toHaveLength(2);
    expect(expandJob({ ...j, spec: { ...j.spec, completions: null } })).toHaveLength(4);
    expect(expandJob({ ...j, spec: { ...j.spec, suspend: true } })).toHaveLength(0);
    expect(expandJob({ ...j, spec: { ...j.spec, completionMode: 'Indexed' } })[1]?.metadata.name).toMatch(/^etl-1-/);
  });

  it('a DaemonSet runs on each node its predicates allow, pinned by matchFields, with the daemon tolerations', () => {
    const nodes = [
      makeNode('amd').build(),
      makeNode('arm').arch('arm64').taint('kubernetes.io/arch', 'arm64', 'NoSchedule').build(),
      makeNode('cordoned').unschedulable().taint('node.kubernetes.io/unschedulable', undefined, 'NoSchedule').build(),
      makeNode('gpu').taint('nvidia.com/gpu', 'true', 'NoSchedule').build(),
      makeNode('win').os('windows').build(),
    ];
    const ds: DaemonSet = {
      metadata: { name: 'agent' },
      spec: { template: { spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ key: 'kubernetes.io/arch', operator: 'Exists' }] } } },
    };
    const pods = expandDaemonSet(ds, nodes);
    const on = pods.map((p) => p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0]);
    // gpu: untolerated taint; win: nodeSelector; cordoned: tolerated by the added unschedulable toleration
    expect(on).toEqual(['amd', 'arm', 'cordoned']);
    expect(pods[0]?.spec.tolerations?.map((t) => t.key)).toContain('node.kubernetes.io/not-ready');
  });

  it('expandWorkloads keeps bare pods and concatenates in order', () => {
    const pods = expandWorkloads({ nodes: [], pods: [makePod('bare').build()], statefulSets: [{ metadata: { name: 's' }, spec: { replicas: 1, template } }] });
    expect(pods.map((p) => p.metadata.name)).toEqual(['bare', 's-0']);
  });
});

describe('priority and queue order', () => {
  const classes = [{ metadata: { name: 'high' }, value: 1000 }, { metadata: { name: 'normal' }, value: 10, globalDefault: true }];
  it('resolves PriorityClasses, built-ins and the global default', () => {
    expect(podPriority(makePod().priorityClass('high').build(), classes)).toEqual({ ok: true, value: 1000 });
    expect(podPriority(makePod().priorityClass('system-node-critical').build(), classes)).toEqual({ ok: true, value: 2000001000 });
    expect(podPriority(makePod().build(), classes)).toEqual({ ok: true, value: 10 });
    expect(podPriority(makePod().build(), [])).toEqual({ ok: true, value: 0 });
    expect(podPriority(makePod().priority(7).build(), classes)).toEqual({ ok: true, value: 7 });
    const missing = podPriority(makePod().priorityClass('nope').build(), classes);
    expect(!missing.ok && missing.error).toContain('no PriorityClass named "nope"');
  });

  it('orders by priority, then creation time, then input order', () => {
    const items = [
      { pod: makePod('low').build(), priority: 0 },
      { pod: makePod('late').createdAt('2024-01-02T00:00:00Z').build(), priority: 5 },
      { pod: makePod('early').createdAt('2024-01-01T00:00:00Z').build(), priority: 5 },
      { pod: makePod('top').build(), priority: 9 },
      { pod: makePod('low2').build(), priority: 0 },
    ];
    expect(queueOrder(items).map((i) => i.pod.metadata.name)).toEqual(['top', 'early', 'late', 'low', 'low2']);
  });
});
