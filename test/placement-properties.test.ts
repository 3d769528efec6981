/**
 * Properties of placement over random clusters and pods, checked by an independent
 * re-statement of the rules (not by the plugins themselves), replaying the decisions in
 * order with its own bookkeeping:
 * - a placed pod's node can run a variant of each of its images (by the OCI/containerd
 *   matching rules stated in test/support/platform-oracle.ts, not by src/core/platform),
 *   the variant chosen is the one containerd would pull there, the node tolerates its
 *   NoSchedule/NoExecute taints, matches the pod's selector and required affinity, and
 *   has room for it after all earlier placements (cpu, memory, pods, host ports);
 * - an unschedulable verdict is true: at that moment no node satisfied all of that.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { podResources } from '../src/core/k8s/resources.ts';
import type { Node, Pod, Toleration } from '../src/core/k8s/types.ts';
import { createFramework, createRng, placePods, ClusterSnapshot, type ImageLookup } from '../src/core/placement/index.ts';
import { makeImages, makeNode, makePod } from './builders/index.ts';
import { oracleBest, oracleCanRun } from './support/platform-oracle.ts';

const CATALOG: Record<string, string[]> = {
  'p/multi:1': ['linux/amd64', 'linux/arm64', 'linux/loong64'],
  'p/amd:1': ['linux/amd64'],
  'p/arm:1': ['linux/arm64'],
  'p/armv6:1': ['linux/arm/v6'],
  'p/armv8:1': ['linux/arm/v8'],
  'p/all:1': ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/loong64', 'linux/riscv64'],
  'p/levels:1': ['linux/amd64', 'linux/amd64/v3', 'linux/arm64', 'linux/arm64/v8.2', 'linux/arm/v5', 'linux/arm/v7'],
  'p/v86:1': ['linux/arm64/v8.6', 'linux/amd64/v2'],
};
const lookup: ImageLookup = makeImages(CATALOG);
/** Image digest -> the platform string the catalog above gives for it (lookup lists them in catalog order). */
const platformOfDigest = new Map<string, string>();
for (const [ref, platforms] of Object.entries(CATALOG)) {
  const info = lookup(`docker.io/${ref}`);
  if (info === undefined) throw new Error(`catalog lookup of ${ref} found nothing`);
  if (!info.ok) throw new Error(info.error);
  info.value.platforms.forEach((p, i) => platformOfDigest.set(p.digest, platforms[i] ?? ''));
}

/** Variants a node of each architecture may state (label polyarch.io/arch-variant; '' = none). */
const VARIANTS: Readonly<Record<string, readonly string[]>> = {
  amd64: ['', 'v2', 'v3'],
  arm64: ['', 'v8.2', 'v9'],
  arm: ['v6', 'v7', 'v8'],
  loong64: [''],
  riscv64: [''],
};

const TAINTS = [
  { key: 'kubernetes.io/arch', value: 'arm64', effect: 'NoSchedule' },
  { key: 'dedicated', value: 'db', effect: 'NoExecute' },
  { key: 'spot', value: 'true', effect: 'PreferNoSchedule' },
] as const;
const TOLERATIONS: Toleration[] = [
  { key: 'kubernetes.io/arch', operator: 'Exists' },
  { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' },
  { key: 'dedicated', operator: 'Equal', value: 'web' },
  { operator: 'Exists', effect: 'NoSchedule' },
];

const nodeArb = fc.record({
  arch: fc.constantFrom('amd64', 'arm64', 'arm', 'loong64', 'riscv64'),
  variant: fc.integer({ min: 0, max: 2 }),
  cpu: fc.integer({ min: 1, max: 16 }).map((n) => n * 500),
  memGi: fc.integer({ min: 1, max: 16 }),
  pods: fc.integer({ min: 1, max: 8 }),
  taints: fc.subarray([0, 1, 2]),
  zone: fc.constantFrom('a', 'b', 'c'),
  cordoned: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  notReady: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

const podArb = fc.record({
  images: fc.array(fc.constantFrom(...Object.keys(CATALOG)), { minLength: 1, maxLength: 2 }),
  init: fc.option(fc.constantFrom(...Object.keys(CATALOG)), { nil: undefined }),
  cpu: fc.integer({ min: 0, max: 12 }).map((n) => n * 250),
  memMi: fc.integer({ min: 0, max: 16 }).map((n) => n * 256),
  initCpu: fc.integer({ min: 0, max: 16 }).map((n) => n * 250),
  tolerations: fc.subarray([0, 1, 2, 3]),
  zone: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  archIn: fc.option(fc.subarray(['amd64', 'arm64', 'loong64'], { minLength: 1 }), { nil: undefined }),
  hostPort: fc.boolean(),
  priority: fc.integer({ min: 0, max: 3 }),
});

type NodeSpec = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type PodSpecArb = typeof podArb extends fc.Arbitrary<infer T> ? T : never;

function variantOf(n: NodeSpec): string {
  const vs = VARIANTS[n.arch] ?? [''];
  return vs[n.variant % vs.length] ?? '';
}

/** The node's platform as the oracle reads it, from the generated spec (not from the Node object). */
const platformText = (n: NodeSpec): string => `linux/${n.arch}${variantOf(n) ? `/${variantOf(n)}` : ''}`;

function buildNode(i: number, n: NodeSpec): Node {
  let b = makeNode(`n${i}`).arch(n.arch).label('zone', n.zone).allocatable({ cpu: `${n.cpu}m`, memory: `${n.memGi}Gi`, pods: String(n.pods) });
  const variant = variantOf(n);
  if (variant) b = b.variant(variant);
  for (const t of n.taints) b = b.taint(TAINTS[t]?.key ?? '', TAINTS[t]?.value, TAINTS[t]?.effect ?? '');
  if (n.cordoned) b = b.unschedulable();
  if (n.notReady) b = b.notReady();
  return b.build();
}

function buildPod(i: number, p: PodSpecArb): Pod {
  let b = makePod(`p${i}`);
  if (p.init) b = b.init(p.init, 'init').requests({ cpu: `${p.initCpu}m` });
  p.images.forEach((img, j) => {
    b = b.image(img, `c${j}`);
    if (j === 0) b = b.requests({ cpu: `${p.cpu}m`, memory: `${p.memMi}Mi` });
    if (j === 0 && p.hostPort) b = b.hostPort(8080);
  });
  for (const t of p.tolerations) b = b.toleration(TOLERATIONS[t] as Toleration);
  if (p.zone) b = b.nodeSelector({ zone: p.zone });
  if (p.archIn) b = b.requiredTerms({ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: p.archIn }] });
  return b.priority(p.priority).build();
}

// ---- the independent statement of the rules --------------------------------------

function tolerates(t: Toleration, taint: { key: string; value?: string; effect: string }): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

interface Held { cpu: number; mem: number; pods: number; ports: number }

function fits(pod: Pod, node: Node, spec: NodeSpec, held: Held): string | undefined {
  const tol = pod.spec.tolerations ?? [];
  // a cordoned or not-ready node is open to pods tolerating the taint Kubernetes puts on it
  if (node.spec?.unschedulable && !tol.some((t) => tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }))) return 'cordoned';
  const notReady = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True');
  if (notReady && !tol.some((t) => tolerates(t, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }))) return 'not ready';
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint))) return `taint ${taint.key}`;
  }
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return 'selector';
  const term = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0];
  if (term && !(term.values ?? []).includes(labels[term.key] ?? '')) return 'affinity';
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    if (!(CATALOG[c.image ?? ''] ?? []).some((p) => oracleCanRun(p, platformText(spec)))) return `image ${c.image}`;
  }
  const r = podResources(pod);
  if (!r.ok) return 'invalid';
  const alloc = node.status?.allocatable ?? {};
  const cpu = Number(String(alloc['cpu']).replace('m', ''));
  const mem = Number(String(alloc['memory']).replace('Gi', '')) * 1024 ** 3;
  if (held.pods + 1 > Number(alloc['pods'])) return 'pods';
  if (r.value.requests.milliCPU > cpu - held.cpu) return 'cpu';
  if (r.value.requests.memory > mem - held.mem) return 'memory';
  const wantsPort = pod.spec.containers.some((c) => (c.ports ?? []).length > 0);
  if (wantsPort && held.ports > 0) return 'port';
  return undefined;
}

describe('placement properties', () => {
  it('placements are valid and refusals are true', () => {
    const fw = createFramework();
    if (!fw.ok) throw new Error(fw.error);
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 10 }), fc.array(podArb, { minLength: 1, maxLength: 14 }), fc.integer({ min: 0, max: 1000 }), (ns, ps, seed) => {
        const nodes = ns.map((n, i) => buildNode(i, n));
        const pods = ps.map((p, i) => buildPod(i, p));
        const snapshot = ClusterSnapshot.fromNodes(nodes);
        const decisions = placePods(fw.value, snapshot, pods.map((pod) => ({ pod, priority: pod.spec.priority ?? 0 })), lookup, createRng(seed));
        const held = new Map<string, Held>(nodes.map((n) => [n.metadata.name ?? '', { cpu: 0, mem: 0, pods: 0, ports: 0 }]));
        decisions.forEach((d, i) => {
          const pod = pods[i] as Pod;
          expect(d.pod).toBe(`default/${pod.metadata.name}`);
          if (d.outcome === 'scheduled') {
            const at = nodes.findIndex((n) => n.metadata.name === d.node);
            const node = nodes[at] as Node;
            const spec = ns[at] as NodeSpec;
            const h = held.get(d.node ?? '') as Held;
            expect(fits(pod, node, spec, h)).toBeUndefined();
            // each chosen image is the variant containerd would pull on that node
            expect(d.choices.map((c) => c.original).sort()).toEqual([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.image).sort());
            for (const c of d.choices) {
              const chosen = platformOfDigest.get(c.image.slice(c.image.indexOf('@') + 1));
              expect(chosen, `${d.pod}: ${c.original} on ${platformText(spec)}`).toBe(oracleBest(CATALOG[c.original] ?? [], platformText(spec)));
            }
            const r = podResources(pod);
            if (!r.ok) throw new Error(r.error);
            h.cpu += r.value.requests.milliCPU;
            h.mem += r.value.requests.memory;
            h.pods += 1;
            if (pod.spec.containers.some((c) => (c.ports ?? []).length > 0)) h.ports += 1;
          } else {
            expect(d.node).toBeNull();
            nodes.forEach((node, k) => expect(fits(pod, node, ns[k] as NodeSpec, held.get(node.metadata.name ?? '') as Held), `${d.pod} could go on ${node.metadata.name}: ${d.reason}`).toBeDefined());
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('skipping constant scores changes no decision', () => {
    const fw = createFramework({ architecturePreference: { arm64: 60 } });
    if (!fw.ok) throw new Error(fw.error);
    const plain = { ...fw.value, scores: fw.value.scores.map(({ plugin, weight }) => ({ weight, plugin: { ...plugin, constant: undefined } })), scratch: [] };
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 8 }), fc.array(podArb, { minLength: 1, maxLength: 8 }), (ns, ps) => {
        const nodes = ns.map((n, i) => buildNode(i, n));
        const queue = ps.map((p, i) => ({ pod: buildPod(i, p), priority: 0 }));
        const a = placePods(fw.value, ClusterSnapshot.fromNodes(nodes), queue, lookup, createRng(3));
        const b = placePods(plain, ClusterSnapshot.fromNodes(nodes), queue, lookup, createRng(3));
        expect(a.map((d) => [d.node, d.reason])).toEqual(b.map((d) => [d.node, d.reason]));
      }),
      { numRuns: 60 },
    );
  });
});
