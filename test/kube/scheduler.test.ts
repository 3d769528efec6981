import { afterEach, describe, expect, it } from 'vitest';
import { canRun, nodePlatform, parsePlatform } from '../../src/core/platform/platform.ts';
import type { Node } from '../../src/core/k8s/types.ts';
import { createFramework } from '../../src/core/placement/framework.ts';
import { barePod, CATALOG, deployment, eventually, events, node, pods, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The platforms the catalog says a reference exists for. */
function catalogPlatforms(ref: string): string[] {
  const entry = CATALOG.find((c) => c.reference === ref);
  if (!entry) return [];
  return 'platforms' in entry && entry.platforms ? entry.platforms : Object.keys(entry.tags ?? {});
}

describe('polyarch scheduler on the API server', () => {
  it('places a mixed workload on four platforms, writes the per-architecture tags\' variants, and refuses the pod no node can run', async () => {
    h = await startHarness();
    const { server } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'), node('loong-1', 'loong64'), node('riscv-1', 'riscv64'));
    await server.create(deployment('web', 6, { web: 'registry.example/shop/web:1.4' }));
    await server.create(deployment('agent', 2, { agent: 'registry.example/tools/agent:2.0' }));
    await server.create(barePod('report', { report: 'registry.example/legacy/report:7' }));
    await server.create(barePod('db', { db: 'registry.example/mainframe/db:9' }));

    const bound = await eventually(() => {
      const ps = pods(server);
      const done = ps.filter((p) => p.spec?.nodeName);
      return ps.length === 10 && done.length === 9 ? done : undefined;
    }, 15_000, 'nine pods bound');

    const nodes = new Map(server.list('v1', 'Node').map((n) => [n.metadata?.name ?? '', n]));
    for (const p of bound) {
      const spec = p.spec as { nodeName: string; containers: { name: string; image: string }[] };
      const annotations = p.metadata?.annotations ?? {};
      const n = nodes.get(spec.nodeName) as unknown as Node;
      const np = nodePlatform(n);
      expect(np.ok).toBe(true);
      const sources = JSON.parse(annotations['polyarch.io/source-images'] ?? '{}') as Record<string, string>;
      for (const c of spec.containers) {
        const original = sources[c.name];
        expect(original, `${p.metadata?.name} records its original image`).toBeDefined();
        // A per-architecture tag is written as the variant's digest; an index (one entry
        // per architecture) or a single image keeps its reference: the node pulls the
        // chosen entry from it anyway.
        const perArchTag = CATALOG.some((e) => e.reference === original && 'tags' in e);
        if (perArchTag) expect(c.image, `${p.metadata?.name} pinned`).toMatch(/^registry\.example\/tools\/agent@sha256:[0-9a-f]{64}$/);
        else expect(c.image, `${p.metadata?.name} as written`).toBe(original);
        // The node can run one of the platforms the original exists for.
        const platforms = catalogPlatforms(original ?? '').map((x) => parsePlatform(x));
        expect(platforms.some((x) => x.ok && np.ok && canRun(x.value, np.value)), `${p.metadata?.name} on ${spec.nodeName}`).toBe(true);
      }
      expect(annotations['polyarch.io/platform']).toMatch(/^linux\//);
    }
    // The per-arch-tag image only exists for amd64 and loong64; the single-arch one only for arm64.
    const agentNodes = bound.filter((p) => p.metadata?.labels?.['app'] === 'agent').map((p) => (p.spec as { nodeName: string }).nodeName);
    expect(agentNodes.every((n) => n === 'amd-1' || n === 'loong-1')).toBe(true);
    expect(bound.find((p) => p.metadata?.name === 'report')?.spec?.['nodeName']).toBe('arm-1');

    // The refused pod: PodScheduled=False/Unschedulable with the summary, and a FailedScheduling event.
    const db = await eventually(() => {
      const p = server.get('v1', 'Pod', 'db');
      const cond = (p?.status?.['conditions'] as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === 'PodScheduled');
      return cond ? { p, cond } : undefined;
    }, 5_000, 'db condition');
    expect(db.p?.spec?.['nodeName']).toBeUndefined();
    expect(db.cond.status).toBe('False');
    expect(db.cond.reason).toBe('Unschedulable');
    expect(db.cond.message).toContain('s390x');
    expect(db.cond.message).toBe("0/4 nodes are available: 4 node(s) can't run any platform of image registry.example/mainframe/db:9 (has linux/s390x).");
    const ev = await eventually(
      () => events(server).find((e) => e['reason'] === 'FailedScheduling' && (e['involvedObject'] as { name: string }).name === 'db' && e['message'] === db.cond.message),
      5_000,
      'FailedScheduling event',
    );
    expect(ev['type']).toBe('Warning');
    await eventually(() => (events(server).filter((e) => e['reason'] === 'Scheduled').length === 9 ? true : undefined), 5_000, 'nine Scheduled events');
  });

  it('pins every image by digest when the framework says pinImages', async () => {
    const fw = createFramework({ pinImages: true });
    if (!fw.ok) throw new Error(fw.error);
    h = await startHarness({}, { framework: fw.value });
    const { server } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    await server.create(barePod('web', { web: 'registry.example/shop/web:1.4' }));
    await server.create(barePod('report', { report: 'registry.example/legacy/report:7' }));
    const bound = await eventually(() => {
      const done = pods(server).filter((p) => p.spec?.nodeName);
      return done.length === 2 ? done : undefined;
    }, 15_000, 'both pods bound');
    for (const p of bound) {
      const [c] = (p.spec as { containers: { image: string }[] }).containers;
      expect(c?.image, `${p.metadata?.name} pinned`).toMatch(/@sha256:[0-9a-f]{64}$/);
    }
  });
});
