/**
 * Placement policy per namespace, end to end on the fake API server: the
 * PlacementPolicy and ClusterPlacementPolicy objects are read over HTTP by the one
 * informer adapter, and the webhook, the extender and the scheduler give the same answer
 * for the same pod (the platforms it may use and the one it prefers). An invalid object
 * is reported (a Warning event naming the field) and the last good policy keeps serving.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import fjp from 'fast-json-patch';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../fake-apiserver/index.ts';
import { KubePlacementPolicies } from '../../src/adapters/kube/placement-policies.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { admitPod } from '../../src/app/admission.ts';
import { Extender } from '../../src/app/extender.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import type { NodeLike } from '../../src/app/placement-choice.ts';
import type { PodLike } from '../../src/core/admission/pod.ts';
import type { PlacementPolicyReader } from '../../src/ports/placement-policy.ts';
import { matchNodeSelector } from '../../src/core/k8s/node-selector.ts';
import type { NodeSelector } from '../../src/core/k8s/types.ts';
import type { KubeObject } from '../../fake-apiserver/index.ts';
import { barePod, catalogFile, eventually, events, node, RecordingLogger, spawnServe, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
let policies: KubePlacementPolicies | undefined;
afterEach(async () => {
  await policies?.stop();
  await h?.stop();
  h = undefined;
  policies = undefined;
});

const WEB = 'registry.example/shop/web:1.4'; // amd64, arm64/v8, riscv64, loong64
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: {}, status: { phase: 'Active' } }) as KubeObject;
const inNs = (pod: KubeObject, namespace: string, labels: Record<string, string> = {}): KubeObject =>
  ({ ...pod, metadata: { ...pod.metadata, namespace, labels: { ...pod.metadata?.labels, ...labels } } }) as KubeObject;
const archOf = (nodes: readonly KubeObject[], name: string): string => String(nodes.find((n) => n.metadata?.name === name)?.metadata?.labels?.['kubernetes.io/arch']);

/** The three answers for one pod: the architectures each allows and the one each prefers (the scheduler: where it bound the pod). */
async function answers(server: Harness['server'], extender: Extender, lookup: ImageLookupService, reader: PlacementPolicyReader, pod: KubeObject): Promise<{ webhook: string[]; extender: string[]; scheduler: string }> {
  const namespace = String(pod.metadata?.namespace);
  const nodes = server.list('v1', 'Node');
  await lookup.resolve(WEB);
  const decision = admitPod(pod as unknown as PodLike, namespace, { resolver: lookup, preferences: [], skipNamespaces: [], policies: reader });
  const op = decision.patch.find((o) => o.path.endsWith('/affinity') || o.path.includes('nodeAffinity'));
  const affinity = (op && 'value' in op ? op.value : undefined) as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchExpressions: { key: string; values: string[] }[] }[] } } } | undefined;
  const required = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions.find((e) => e.key === 'kubernetes.io/arch')?.values ?? ['*'];
  const filtered = await extender.filter({ pod: pod as unknown as PodLike, nodes: nodes as unknown as NodeLike[] });
  const extenderArchs = [...new Set((filtered.nodes ?? []).map((n) => archOf(nodes, n.metadata?.name ?? '')))].sort();
  await server.create(pod);
  const bound = await eventually(() => server.get('v1', 'Pod', String(pod.metadata?.name), namespace)?.spec?.['nodeName'] as string | undefined, 15_000, `${namespace}/${String(pod.metadata?.name)} bound`);
  return { webhook: [...required].sort(), extender: extenderArchs, scheduler: archOf(nodes, bound) };
}

describe('placement policy per namespace', () => {
  it('webhook, extender and scheduler give the same answer for the same pod, and an invalid object leaves the last good policy in force', async () => {
    const reader: PlacementPolicyReader = { policyFor: (n) => (policies as KubePlacementPolicies).policyFor(n) };
    h = await startHarness({}, { policies: reader });
    const { server } = h;
    server.seed(ns('team-a'), ns('team-b'), node('amd-1', 'amd64'), node('arm-1', 'arm64'), node('riscv-1', 'riscv64'), node('loong-1', 'loong64'));
    await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'ClusterPlacementPolicy', metadata: { name: 'cluster' }, spec: { platforms: ['linux/amd64', 'linux/arm64', 'linux/riscv64'], preferences: [{ platform: 'linux/amd64', weight: 100 }] } });
    await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'PlacementPolicy', metadata: { name: 'arm-first', namespace: 'team-a' }, spec: { platforms: ['linux/arm64', 'linux/riscv64'], preferences: [{ platform: 'linux/riscv64', weight: 90 }], excludePods: { matchLabels: { legacy: 'true' } } } });
    const log = new RecordingLogger();
    policies = new KubePlacementPolicies(server.kubeConfig(), { clock: systemClock, log, base: 'Block' });
    await policies.start();
    const lookup = new ImageLookupService({ source: h.registry, clock: systemClock });
    const extender = new Extender({ resolver: lookup, cluster: h.cluster, clock: systemClock, deadlineMs: 5_000, preferences: [], policies: reader });

    // team-a: the namespace narrows the cluster's list and its preference replaces the cluster's.
    expect(await answers(server, extender, lookup, reader, inNs(barePod('web-a', { web: WEB }), 'team-a'))).toEqual({ webhook: ['arm64', 'riscv64'], extender: ['arm64', 'riscv64'], scheduler: 'riscv64' });
    // team-b has no policy: the cluster default (loong64 refused, amd64 preferred).
    expect(await answers(server, extender, lookup, reader, inNs(barePod('web-b', { web: WEB }), 'team-b'))).toEqual({ webhook: ['amd64', 'arm64', 'riscv64'], extender: ['amd64', 'arm64', 'riscv64'], scheduler: 'amd64' });
    // Excluded by team-a's selector: no policy at all; the webhook leaves the pod alone, extender and scheduler allow every platform.
    const legacy = inNs(barePod('legacy', { web: WEB }), 'team-a', { legacy: 'true' });
    expect(admitPod(legacy as unknown as PodLike, 'team-a', { resolver: lookup, preferences: [], skipNamespaces: [], policies: reader }).reason).toBe('excluded by the excludePods selector of ClusterPlacementPolicy cluster + PlacementPolicy team-a/arm-first');
    const all = await extender.filter({ pod: legacy as unknown as PodLike, nodes: server.list('v1', 'Node') as unknown as NodeLike[] });
    expect((all.nodes ?? []).length).toBe(4);

    // An invalid update: reported on the object, the last good policy keeps serving.
    const current = server.get('polyarch.io/v1alpha1', 'PlacementPolicy', 'arm-first', 'team-a');
    await server.client(CustomObjectsApi).replaceNamespacedCustomObject({ group: 'polyarch.io', version: 'v1alpha1', plural: 'placementpolicies', namespace: 'team-a', name: 'arm-first', body: { ...current, spec: { platforms: ['linux/sparc'] } } });
    const warning = await eventually(() => events(server, 'team-a').find((e) => e['reason'] === 'InvalidPlacementPolicy'), 10_000, 'an InvalidPlacementPolicy event');
    expect(warning['message']).toBe('PlacementPolicy team-a/arm-first: spec.platforms[0]: not a platform (want os/arch[/variant], e.g. linux/arm64 or linux/amd64/v3); the last good policy stays in force');
    expect(await answers(server, extender, lookup, reader, inNs(barePod('web-a2', { web: WEB }), 'team-a'))).toEqual({ webhook: ['arm64', 'riscv64'], extender: ['arm64', 'riscv64'], scheduler: 'riscv64' });
  });
});

/** A node as the project defines its platform: kubernetes.io/arch plus the optional polyarch.io/arch-variant label. */
const variantNode = (name: string, arch: string, variant: string): KubeObject => {
  const n = node(name, arch);
  return { ...n, metadata: { ...n.metadata, labels: { ...n.metadata?.labels, 'polyarch.io/arch-variant': variant } } } as KubeObject;
};

/**
 * Each component's answer for one pod, as a set of node names or the reason it holds the
 * pod: the webhook's (the nodes its required node affinity admits), the extender's
 * (/filter's passing nodes), the scheduler's (the nodes its decision found feasible, on
 * the fake API server: it binds the pod to one of them).
 */
async function nodeAnswers(server: Harness['server'], scheduler: Harness['scheduler'], extender: Extender, lookup: ImageLookupService, reader: PlacementPolicyReader, pod: KubeObject): Promise<{ webhook: string; extender: string; scheduler: string }> {
  const namespace = String(pod.metadata?.namespace);
  const name = String(pod.metadata?.name);
  const nodes = server.list('v1', 'Node');
  const names = (xs: readonly string[]): string => [...xs].sort().join(',');
  const held = (reason: string): string => `held: ${reason.replace(/^.*?(held \(unreadableImages: Block\))/, '$1')}`;
  const decision = admitPod(pod as unknown as PodLike, namespace, { resolver: lookup, preferences: [], skipNamespaces: [], policies: reader });
  const admitted = fjp.applyPatch(structuredClone(pod), decision.patch as fjp.Operation[]).newDocument as { spec: { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector } } } };
  const required = admitted.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const webhook = decision.outcome === 'gated' ? held(decision.reason)
    : names(nodes.filter((n) => !required || matchNodeSelector(required, { name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} })).map((n) => n.metadata?.name ?? ''));
  const filtered = await extender.filter({ pod: pod as unknown as PodLike, nodes: nodes as unknown as NodeLike[] });
  const refusals = [...new Set(Object.values(filtered.unresolvable))];
  const extenderAnswer = filtered.error ? `error: ${filtered.error}` : (filtered.nodes ?? []).length === 0 && refusals.length === 1 && refusals[0]?.includes('held') ? held(refusals[0]) : names((filtered.nodes ?? []).map((n) => n.metadata?.name ?? ''));
  await server.create(pod);
  const schedulerAnswer = await eventually(() => {
    const stored = server.get('v1', 'Pod', name, namespace);
    const cond = (stored?.status?.['conditions'] as { type: string; status: string; message?: string }[] | undefined)?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (cond?.message?.includes('held')) return held(cond.message);
    const bound = stored?.spec?.['nodeName'] as string | undefined;
    const d = scheduler.decisions.get(`${namespace}/${name}`);
    if (!bound || !d) return undefined;
    const feasible = d.candidates.map((c) => c.node);
    expect(feasible).toHaveLength(d.nodes.feasible);
    expect(feasible).toContain(bound);
    return names(feasible);
  }, 15_000, `${namespace}/${name} bound or held by the scheduler`);
  return { webhook, extender: extenderAnswer, scheduler: schedulerAnswer };
}

describe('images whose platforms cannot be read, and variants, under a placement policy', () => {
  it('the webhook, the extender and the scheduler apply the same unreadableImages fallback and the same variant rules: the same answer for the same pod', async () => {
    const reader: PlacementPolicyReader = { policyFor: (n) => (policies as KubePlacementPolicies).policyFor(n) };
    h = await startHarness({}, { policies: reader });
    const { server, scheduler } = h;
    server.seed(ns('team-block'), ns('team-open'), node('amd-1', 'amd64'), node('arm-1', 'arm64'), variantNode('arm-9', 'arm64', 'v9'), variantNode('amd-3', 'amd64', 'v3'), node('riscv-1', 'riscv64'));
    await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'PlacementPolicy', metadata: { name: 'strict', namespace: 'team-block' }, spec: { unreadableImages: 'Block' } });
    await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'PlacementPolicy', metadata: { name: 'open', namespace: 'team-open' }, spec: { platforms: ['linux/amd64/v3', 'linux/arm64/v8'], unreadableImages: 'Unconstrained' } });
    policies = new KubePlacementPolicies(server.kubeConfig(), { clock: systemClock, log: new RecordingLogger(), base: 'Block' });
    await policies.start();
    const lookup = new ImageLookupService({ source: h.registry, clock: systemClock });
    const extender = new Extender({ resolver: lookup, cluster: h.cluster, clock: systemClock, deadlineMs: 5_000, preferences: [], policies: reader });
    const MISSING = 'registry.example/shop/missing:1'; // not in the catalog: a permanent failure (not found)
    await lookup.resolve(WEB);
    await lookup.resolve(MISSING);

    // Block: the three hold the pod, with the same reason.
    const blocked = await nodeAnswers(server, scheduler, extender, lookup, reader, inNs(barePod('lost', { app: MISSING }), 'team-block'));
    expect(blocked.webhook).toMatch(/^held: held \(unreadableImages: Block\): container app: registry.example\/shop\/missing:1: not in the scenario's image catalog$/);
    expect(blocked).toEqual({ webhook: blocked.webhook, extender: blocked.webhook, scheduler: blocked.webhook });
    // Unconstrained: no constraint from the unknown image; the policy's platforms, variants included (arm64 v8 only: not arm-9; amd64 v3 only: not amd-1), still apply.
    expect(await nodeAnswers(server, scheduler, extender, lookup, reader, inNs(barePod('unknown', { app: MISSING }), 'team-open'))).toEqual({ webhook: 'amd-3,arm-1', extender: 'amd-3,arm-1', scheduler: 'amd-3,arm-1' });
    // A readable image beside the unknown one still narrows: report:7 exists for arm64/v8 only.
    await lookup.resolve('registry.example/legacy/report:7');
    expect(await nodeAnswers(server, scheduler, extender, lookup, reader, inNs(barePod('mixed', { report: 'registry.example/legacy/report:7', app: MISSING }), 'team-open'))).toEqual({ webhook: 'arm-1', extender: 'arm-1', scheduler: 'arm-1' });
    // No policy in the namespace and the built-in fallback Block: held by all three as well.
    const dflt = await nodeAnswers(server, scheduler, extender, lookup, reader, inNs(barePod('lost', { app: MISSING }), 'default'));
    expect(new Set(Object.values(dflt)).size).toBe(1);
    expect(dflt.webhook).toMatch(/^held: /);
  });
});

describe('polyarch serve --scheduler with placement policies', () => {
  it('binds a pod of a namespace with a PlacementPolicy only where the policy allows, and reports an invalid ClusterPlacementPolicy', async () => {
    const server = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, kubelet: true } });
    try {
      server.seed(ns('polyarch-system'), ns('team-a'), node('amd-1', 'amd64', { cpu: '16' }), node('arm-1', 'arm64'), node('riscv-1', 'riscv64', { cpu: '16' }));
      await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'PlacementPolicy', metadata: { name: 'arm-only', namespace: 'team-a' }, spec: { platforms: ['linux/arm64'] } });
      // A second, newer policy in the same namespace, named to sort first: refused (the oldest is in force), and said so in its status.
      await eventually(() => Date.now() - Date.parse(String(server.get('polyarch.io/v1alpha1', 'PlacementPolicy', 'arm-only', 'team-a')?.metadata?.creationTimestamp)) >= 1_000, 5_000, 'a second later (creationTimestamp has 1 s resolution)');
      await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'PlacementPolicy', metadata: { name: 'a-riscv', namespace: 'team-a' }, spec: { platforms: ['linux/riscv64'] } });
      await server.create({ apiVersion: 'polyarch.io/v1alpha1', kind: 'ClusterPlacementPolicy', metadata: { name: 'cluster' }, spec: { preferences: [{ platform: 'linux/riscv64', weight: 0 }] } });
      const dir = await mkdtemp(join(tmpdir(), 'polyarch-policy-'));
      const serve = spawnServe(['--scheduler', '--no-leader-elect', '--kubeconfig', await server.writeKubeconfig(join(dir, 'kubeconfig')), '--images', await catalogFile(dir), '--listen', '127.0.0.1:0']);
      try {
        await server.create(inNs(barePod('web', { web: WEB }), 'team-a'));
        const bound = await eventually(() => {
          const f = serve.failure();
          if (f) throw f;
          return server.get('v1', 'Pod', 'web', 'team-a')?.spec?.['nodeName'] as string | undefined;
        }, 20_000, 'team-a/web bound by polyarch serve');
        expect(bound).toBe('arm-1');
        const accepted = (name: string): Record<string, unknown> | undefined =>
          (server.get('polyarch.io/v1alpha1', 'PlacementPolicy', name, 'team-a')?.status?.['conditions'] as Record<string, unknown>[] | undefined)?.find((c) => c['type'] === 'Accepted');
        const refused = await eventually(() => accepted('a-riscv'), 10_000, 'the Accepted condition of team-a/a-riscv');
        expect(refused).toMatchObject({ status: 'False', reason: 'Conflict', message: 'PlacementPolicy team-a/a-riscv: ignored: namespace team-a already has arm-only (one policy per namespace: the oldest is in force)' });
        expect(await eventually(() => accepted('arm-only'), 10_000, 'the Accepted condition of team-a/arm-only')).toMatchObject({ status: 'True', reason: 'InForce' });
        const line = await eventually(() => serve.out.find((l) => l.includes('invalid placement policy')), 10_000, "serve's 'invalid placement policy' log line");
        expect(line).toContain('ClusterPlacementPolicy cluster: spec.preferences[0].weight: Too small');
      } finally {
        serve.proc.kill('SIGTERM');
        await eventually(() => serve.proc.exitCode !== null || serve.proc.signalCode !== null, 10_000, 'serve exited');
      }
    } finally {
      await server.close();
    }
  });
});
