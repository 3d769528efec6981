import { describe, expect, it } from 'vitest';
import { anyImage, digestOf, makeImage, makeImages, makeNode, makePod, snapshotOf } from '../../../test/builders/index.ts';
import type { PlatformSource } from '../image/types.ts';
import { parsePlatform } from '../platform/platform.ts';
import type { PodImage } from './pod-info.ts';
import { createFramework, type Framework, type PlacementPolicy } from './framework.ts';
import { failureSummary, successSummary } from './decision.ts';
import { PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import { createRng } from '../rng.ts';
import { mustWrite, placePod, schedulePod } from './schedule.ts';

const fw = (policy: PlacementPolicy = {}): Framework => {
  const r = createFramework(policy);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const images = makeImages({
  'shop/web:1.4': ['linux/amd64', 'linux/arm64'],
  'shop/legacy:2': ['linux/amd64'],
  'shop/armonly:1': ['linux/arm64'],
  'shop/lib:1': ['linux/arm/v6', 'linux/arm/v7'],
});

describe('schedulePod', () => {
  it('places, selects the variant, pins it by digest and records the original (S2-S4)', () => {
    const snap = snapshotOf([makeNode('x86').allocatable({ cpu: '2' }).build(), makeNode('arm').arch('arm64').allocatable({ cpu: '16' }).build()]);
    const { decision } = schedulePod(fw(), snap, makePod('web').image('shop/web:1.4', 'web').requests({ cpu: '1' }).build(), images, createRng(1));
    // least allocated: arm has 15/16 left, x86 1/2: arm wins
    expect(decision.outcome).toBe('scheduled');
    expect(decision.node).toBe('arm');
    expect(decision.platform).toBe('linux/arm64');
    const arm = images('docker.io/shop/web:1.4');
    const armDigest = arm?.ok ? arm.value.platforms.find((p) => p.platform.architecture === 'arm64')?.digest : '';
    expect(decision.images).toEqual({ web: `docker.io/shop/web@${armDigest}` });
    const bound = decision.boundPod;
    expect(bound?.spec.nodeName).toBe('arm');
    expect(bound?.spec.containers[0]?.image).toBe(`docker.io/shop/web@${armDigest}`);
    expect(JSON.parse(bound?.metadata.annotations?.[SOURCE_IMAGES_ANNOTATION] ?? '{}')).toEqual({ web: 'shop/web:1.4' });
    expect(bound?.metadata.annotations?.[PLATFORM_ANNOTATION]).toBe('linux/arm64');
    expect(decision.candidates.map((c) => c.node)).toEqual(['arm', 'x86']);
    expect(decision.reason).toMatch(/^best of 2 feasible node\(s\) of 2, score \d+ \(LeastAllocated \d+x1/);
  });

  it('reads the recorded original back when a placed pod moves (migration)', () => {
    const first = schedulePod(fw(), snapshotOf([makeNode('arm').arch('arm64').build()]), makePod('web').image('shop/web:1.4', 'web').build(), images, createRng(1));
    const moved = first.decision.boundPod;
    if (!moved) throw new Error('not placed');
    const again = schedulePod(fw(), snapshotOf([makeNode('x86').build()]), { ...moved, spec: { ...moved.spec, nodeName: '' } }, images, createRng(1));
    expect(again.decision.node).toBe('x86');
    expect(again.decision.platform).toBe('linux/amd64');
    expect(again.decision.choices[0]?.original).toBe('shop/web:1.4');
  });

  it('chooses the exact variant before a compatible lower one', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('pi').arch('arm').variant('v7').build()]), makePod().image('shop/lib:1', 'lib').build(), images, createRng(1));
    expect(decision.choices[0]?.platform).toBe('linux/arm/v7');
    expect(decision.choices[0]?.exact).toBe(true);
    const { decision: old } = schedulePod(fw(), snapshotOf([makeNode('pi').arch('arm').variant('v8').build()]), makePod().image('shop/lib:1', 'lib').build(), images, createRng(1));
    // an arm/v8 (32-bit) node runs v7 and v6: the highest compatible, v7
    expect(old.choices[0]?.platform).toBe('linux/arm/v7');
    expect(old.choices[0]?.exact).toBe(false);
  });

  it('explains a refusal as kube-scheduler does', () => {
    const nodes = [
      ...['a1', 'a2'].map((n) => makeNode(n).arch('arm64').taint('kubernetes.io/arch', 'arm64', 'NoSchedule').build()),
      makeNode('small').allocatable({ cpu: '500m' }).build(),
      makeNode('cordoned').unschedulable().build(),
    ];
    const { decision } = schedulePod(fw(), snapshotOf(nodes), makePod().image('shop/web:1.4').requests({ cpu: '1' }).build(), images, createRng(1));
    expect(decision.outcome).toBe('unschedulable');
    expect(decision.node).toBeNull();
    expect(decision.images).toEqual({});
    expect(decision.reason).toBe('0/4 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable, 2 node(s) had untolerated taint {kubernetes.io/arch: arm64}.');
  });

  it('names the image and its platforms when no node can run it', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').arch('arm64').build(), makeNode('b').arch('arm64').build()]), makePod().image('shop/legacy:2').build(), images, createRng(1));
    expect(decision.reason).toBe("0/2 nodes are available: 2 node(s) can't run any platform of image shop/legacy:2 (has linux/amd64).");
  });

  it('refuses a pod whose images share no platform, naming them', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), makePod().image('shop/legacy:2').image('shop/armonly:1').build(), images, createRng(1));
    expect(decision.outcome).toBe('unschedulable');
    expect(decision.reason).toBe("0/1 nodes are available: the pod's images share no platform: shop/legacy:2 (linux/amd64), shop/armonly:1 (linux/arm64).");
  });

  it('refuses a pod whose image did not resolve, with the resolver message', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), makePod().image('shop/missing:1').build(), images, createRng(1));
    expect(decision.reason).toContain('image docker.io/shop/missing:1: not found');
  });

  it('refuses an invalid pod as invalid, naming the field', () => {
    const { decision } = schedulePod(fw(), snapshotOf([makeNode('a').build()]), makePod().requests({ cpu: 'lots' }).build(), anyImage(), createRng(1));
    expect(decision.outcome).toBe('invalid');
    expect(decision.reason).toContain('spec.containers[0].resources.requests.cpu');
  });

  it('breaks ties with the seeded RNG: same seed, same node; several seeds, several nodes', () => {
    const nodes = Array.from({ length: 8 }, (_, i) => makeNode(`n${i}`).build());
    const pick = (seed: number) => schedulePod(fw(), snapshotOf(nodes), makePod().build(), anyImage(), createRng(seed)).decision.node;
    expect(pick(7)).toBe(pick(7));
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(pick)).size).toBeGreaterThan(1);
  });

  it('an architecture preference can outweigh free capacity', () => {
    const nodes = [makeNode('x86').allocatable({ cpu: '16' }).build(), makeNode('arm').arch('arm64').allocatable({ cpu: '8' }).build()];
    const pod = makePod().image('shop/web:1.4').requests({ cpu: '1' }).build();
    expect(schedulePod(fw(), snapshotOf(nodes), pod, images, createRng(1)).decision.node).toBe('x86');
    expect(schedulePod(fw({ architecturePreference: { arm64: 100 } }), snapshotOf(nodes), pod, images, createRng(1)).decision.node).toBe('arm');
  });

  it('placePod assumes: the next pod sees the allocation', () => {
    const snap = snapshotOf([makeNode('a').allocatable({ cpu: '2' }).build()]);
    const f = fw();
    expect(placePod(f, snap, makePod('p1').requests({ cpu: '1500m' }).build(), anyImage(), createRng(1)).node).toBe('a');
    const second = placePod(f, snap, makePod('p2').requests({ cpu: '1' }).build(), anyImage(), createRng(1));
    expect(second.outcome).toBe('unschedulable');
    expect(second.reason).toBe('0/1 nodes are available: 1 Insufficient cpu.');
  });

  it('percentageOfNodesToScore stops early but never misses a feasible node when few exist', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => makeNode(`n${i}`).arch(i === 299 ? 'arm64' : 'amd64').build());
    const f = fw({ percentageOfNodesToScore: 10 });
    const d = schedulePod(f, snapshotOf(nodes), makePod().image('shop/armonly:1').build(), images, createRng(1)).decision;
    expect(d.node).toBe('n299');
    const wide = schedulePod(f, snapshotOf(nodes), makePod().image('shop/web:1.4').build(), images, createRng(1)).decision;
    // max(100, 300 * 10%) = 100 feasible nodes wanted: stops after 100
    expect(wide.nodes.evaluated).toBe(100);
  });

  it('refuses a bad policy, naming the field', () => {
    expect(createFramework({ weights: { Bogus: 1 } as never })).toMatchObject({ ok: false });
    const r = createFramework({ percentageOfNodesToScore: 120 });
    expect(!r.ok && r.error).toContain('percentageOfNodesToScore');
  });
});

describe('failureSummary', () => {
  it('sorts "count reason" strings as kube-scheduler does', () => {
    expect(failureSummary(12, new Map([['node(s) had untolerated taint {kubernetes.io/arch: arm64}', 5], ['Insufficient cpu', 4], ["node(s) can't run any platform of image X (has linux/amd64)", 3]])))
      .toBe("0/12 nodes are available: 3 node(s) can't run any platform of image X (has linux/amd64), 4 Insufficient cpu, 5 node(s) had untolerated taint {kubernetes.io/arch: arm64}.");
    expect(failureSummary(0, {})).toBe('no nodes available to schedule pods');
    // Nodes that refused nothing countable (none examined): no colon, no list.
    expect(failureSummary(3, {})).toBe('0/3 nodes are available.');
  });
});

describe('successSummary', () => {
  it('a partial scan says how many nodes it examined of how many (kube-scheduler\'s percentageOfNodesToScore)', () => {
    const nodes = Array.from({ length: 150 }, (_, i) => makeNode(`n${i}`).build());
    const f = fw({ percentageOfNodesToScore: 10, weights: { ImageLocality: 0 } });
    const { decision } = schedulePod(f, snapshotOf(nodes), makePod('p').image('shop/web:1.4').build(), images, createRng(1));
    // 10 % of 150 is 15, raised to kube-scheduler's minimum of 100 feasible nodes; empty equal nodes all score the same.
    expect(decision.nodes).toEqual({ total: 150, evaluated: 100, feasible: 100 });
    expect(decision.reason).toMatch(/^best of 100 feasible node\(s\) of 100 examined of 150, score \d+ \(LeastAllocated \d+x1, BalancedAllocation \d+x1, NodeAffinity 0x2, TaintToleration 100x3\)$/);
    const full = schedulePod(fw({ weights: { ImageLocality: 0 } }), snapshotOf(nodes.slice(0, 12)), makePod('p').image('shop/web:1.4').build(), images, createRng(1)).decision;
    expect(full.reason).toMatch(/^best of 12 feasible node\(s\) of 12, score /);
  });

  it('a cycle with no candidate has no success line', () => {
    expect(successSummary(fw(), { node: undefined, total: 3, evaluated: 3, feasible: 0, failures: new Map(), candidates: [] })).toBe('');
  });
});

describe('evaluateNodes (extender view)', () => {
  it('splits the given nodes into scored feasible ones and refused ones with reasons', async () => {
    const { evaluateNodes } = await import('./framework.ts');
    const { prepared } = await import('../../../test/builders/index.ts');
    const snap = snapshotOf([makeNode('big').allocatable({ cpu: '8' }).build(), makeNode('small').allocatable({ cpu: '2' }).build(), makeNode('arm').arch('arm64').build()]);
    const pod = prepared(makePod().image('shop/legacy:2').requests({ cpu: '1' }).build(), images);
    const r = evaluateNodes(fw(), snap, pod, ['small', 'arm', 'big', 'ghost']);
    expect(r.feasible.map((n) => n.node)).toEqual(['big', 'small']);
    expect(r.failed).toEqual({
      arm: "node(s) can't run any platform of image shop/legacy:2 (has linux/amd64)",
      ghost: 'node(s) were not found in the scheduler cache',
    });
  });
});

describe('mustWrite: whether the pod must name the chosen variant (S4)', () => {
  const plat = (text: string) => {
    const p = parsePlatform(text);
    if (!p.ok) throw new Error(p.error);
    return p.value;
  };
  const ORIGINAL = 'registry.example/shop/web:1.4';
  const entry = (p: string) => ({ platform: plat(p), digest: digestOf(p), image: `registry.example/shop/web@${digestOf(p)}` });
  const image = (source: PlatformSource, platforms: string[], extra: Partial<PodImage> = {}): PodImage => ({
    container: 'web', init: false, original: ORIGINAL, reference: ORIGINAL, current: ORIGINAL, platforms: platforms.map(entry), source, ...extra,
  });
  const amd64 = entry('linux/amd64');

  it('keeps an index or single-image reference whose only entry for the node architecture is the chosen one', () => {
    expect(mustWrite(image('index', ['linux/amd64', 'linux/arm64']), amd64, plat('linux/amd64'))).toBe(false);
    expect(mustWrite(image('manifest', ['linux/amd64']), amd64, plat('linux/amd64'))).toBe(false);
  });

  it('writes a per-architecture tag, a declared variant, an index with several entries for the architecture, and a withheld one', () => {
    expect(mustWrite(image('tag-convention', ['linux/amd64']), amd64, plat('linux/amd64'))).toBe(true);
    expect(mustWrite(image('catalog', ['linux/amd64']), amd64, plat('linux/amd64'))).toBe(true);
    // amd64 and amd64/v3: which one a runtime pulls depends on what it believes the CPU is.
    expect(mustWrite(image('index', ['linux/amd64', 'linux/amd64/v3']), amd64, plat('linux/amd64'))).toBe(true);
    // The other amd64 entry was seen not to run: the runtime would still pull it.
    expect(mustWrite(image('index', ['linux/amd64'], { withheld: [entry('linux/amd64/v3')] }), amd64, plat('linux/amd64/v3'))).toBe(true);
    // A withheld entry of another architecture changes nothing here.
    expect(mustWrite(image('index', ['linux/amd64'], { withheld: [entry('linux/arm64')] }), amd64, plat('linux/amd64'))).toBe(false);
    // Nor does an entry of another OS for the architecture (a runtime pulls its own OS's).
    expect(mustWrite(image('index', ['linux/amd64', 'windows/amd64']), amd64, plat('linux/amd64'))).toBe(false);
    // Two offered and one withheld for the architecture: three candidates, write.
    expect(mustWrite(image('index', ['linux/amd64', 'linux/amd64/v2'], { withheld: [entry('linux/amd64/v3')] }), amd64, plat('linux/amd64/v3'))).toBe(true);
  });

  it('looks at what the pod names now: already the chosen digest, or something else than the original', () => {
    expect(mustWrite(image('tag-convention', ['linux/amd64'], { current: amd64.image }), amd64, plat('linux/amd64'))).toBe(false);
    expect(mustWrite(image('index', ['linux/amd64'], { current: `registry.example/shop/web@${digestOf('other')}` }), amd64, plat('linux/amd64'))).toBe(true);
    // Without a lookup (a platform-blind profile) nothing is known: write.
    expect(mustWrite(image('index', ['linux/amd64'], { source: undefined }), amd64, plat('linux/amd64'))).toBe(true);
  });

  it('is what chooseImages and the bound pod follow, unless the framework pins images', () => {
    const lookup = (ref: string) => ref === 'docker.io/shop/web:1.4'
      ? { ok: true as const, value: { ...makeImage('shop/web:1.4', ['linux/amd64', 'linux/arm64']), source: 'index' as const } }
      : undefined;
    const snap = () => snapshotOf([makeNode('x86').build()]);
    const pod = makePod('web').image('shop/web:1.4', 'web').build();
    const kept = schedulePod(fw(), snap(), pod, lookup, createRng(1)).decision;
    expect(kept.choices[0]?.write).toBe(false);
    expect(kept.boundPod?.spec.containers[0]?.image).toBe('shop/web:1.4');
    expect(kept.images['web']).toMatch(/@sha256:/);
    const pinned = schedulePod(fw({ pinImages: true }), snap(), pod, lookup, createRng(1)).decision;
    expect(pinned.choices[0]?.write).toBe(true);
    expect(pinned.boundPod?.spec.containers[0]?.image).toBe(pinned.images['web']);
  });

  it('pinImages must be a boolean', () => {
    expect(createFramework({ pinImages: 'yes' as never })).toEqual({ ok: false, error: 'pinImages: must be true or false, got "yes"' });
  });
});
