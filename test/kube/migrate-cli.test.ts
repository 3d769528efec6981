import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/index.ts';
import { formatPlatform } from '../../src/core/platform/platform.ts';
import { barePod, CATALOG, eventually, node, resolver, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.stop();
  h = undefined;
});

const WEB = 'registry.example/shop/web:1.4';

/** Runs the CLI in process, capturing stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await run(args);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

/** The harness's catalog as an offline catalog file (`--images`): what the CLI's check reads instead of a registry. */
async function catalogFile(): Promise<string> {
  const images: Record<string, { platform: string; image: string }[]> = {};
  const registry = resolver();
  for (const { reference } of CATALOG) {
    const r = registry.answer(reference);
    if (!r?.ok) throw new Error(`catalog: ${reference} not in the test registry`);
    images[reference] = r.value.platforms.map((p) => ({ platform: formatPlatform(p.platform), image: p.image }));
  }
  const file = join(await mkdtemp(join(tmpdir(), 'polyarch-migrate-')), 'images.json');
  await writeFile(file, JSON.stringify({ images }));
  return file;
}

type PodObj = { metadata?: { uid?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
const archTerms = (p: PodObj | undefined): unknown =>
  ((p?.spec?.['affinity'] as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: { key: string; values: string[] }[] }[] } } } | undefined)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).map((t) => (t.matchExpressions ?? []).filter((e) => e.key === 'kubernetes.io/arch').map((e) => e.values));

describe('polyarch migrate', () => {
  it('moves a bare pod to another platform: re-created from its source images with that variant', async () => {
    h = await startHarness({ controllers: 'all' });
    const { server, registry } = h;
    server.seed(node('amd-1', 'amd64'));
    await server.create(barePod('solo', { solo: WEB }));
    await eventually(() => (server.get('v1', 'Pod', 'solo')?.status?.['phase'] === 'Running' ? true : undefined), 15_000, 'solo running');
    server.seed(node('arm-1', 'arm64'));
    const kubeconfig = await server.writeKubeconfig();
    const images = await catalogFile();
    const r = await cli(['migrate', 'solo', '--to', 'linux/arm64', '--kubeconfig', kubeconfig, '--images', images, '--timeout', '60s', '-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { moves: { pod: string; phase: string }[] };
    expect(result.moves).toEqual([expect.objectContaining({ pod: 'default/solo', phase: 'Succeeded' })]);
    const solo = await eventually(() => {
      const p = server.get('v1', 'Pod', 'solo');
      return p?.spec?.['nodeName'] === 'arm-1' ? p : undefined;
    }, 15_000, 'solo on arm-1');
    const arm = registry.answer(WEB);
    const variant = arm?.ok ? arm.value.platforms.find((x) => x.platform.architecture === 'arm64')?.image : undefined;
    expect(variant).toBeDefined();
    // Re-created from its source image: the index (one arm64 entry) gives arm-1 that variant, the pod keeps the reference.
    expect((solo.spec?.['containers'] as { image: string }[])[0]?.image).toBe(WEB);

    // Moved again, back to amd64: the architecture is replaced, not added to (arm64 AND amd64 would match no node).
    const back = await cli(['migrate', 'solo', '--to', 'linux/amd64', '--kubeconfig', kubeconfig, '--images', images, '--timeout', '60s', '-o', 'json']);
    expect(back.err).toBe('');
    expect(back.code).toBe(0);
    expect((JSON.parse(back.out) as { moves: { phase: string }[] }).moves[0]?.phase).toBe('Succeeded');
    const home = await eventually(() => {
      const p = server.get('v1', 'Pod', 'solo');
      return p?.spec?.['nodeName'] === 'amd-1' ? p : undefined;
    }, 15_000, 'solo back on amd-1');
    expect(archTerms(home as PodObj)).toEqual([[['amd64']]]);
  });

  it('refuses a move no node or no image variant can take, before touching anything (exit 1, the reason)', async () => {
    h = await startHarness({ controllers: 'all' });
    const { server } = h;
    server.seed(node('amd-1', 'amd64'));
    await server.create(barePod('solo', { solo: WEB }));
    const before = await eventually(() => {
      const p = server.get('v1', 'Pod', 'solo');
      return p?.status?.['phase'] === 'Running' ? p : undefined;
    }, 15_000, 'solo running');
    const kubeconfig = await server.writeKubeconfig();
    const images = await catalogFile();
    const untouched = (): void => {
      const now = server.get('v1', 'Pod', 'solo');
      expect(now?.metadata?.uid).toBe(before.metadata?.uid);
      expect(now?.metadata?.deletionTimestamp).toBeUndefined();
      expect(now?.spec?.['nodeName']).toBe('amd-1');
      expect(server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system')).toEqual([]);
    };
    // No s390x node at all.
    const noNode = await cli(['migrate', 'solo', '--to', 'linux/s390x', '--kubeconfig', kubeconfig, '--images', images]);
    expect(noNode.code).toBe(1);
    expect(noNode.err.trim().split('\n')).toHaveLength(1);
    expect(noNode.err).toContain('no node can run default/solo as linux/s390x: 0/1 nodes are available');
    untouched();
    // An s390x node, but the image has no s390x variant.
    server.seed(node('s390x-1', 's390x'));
    await eventually(async () => ((await h?.cluster.getNode('s390x-1')) ? true : undefined), 5_000, 's390x-1 seen');
    const noVariant = await cli(['migrate', 'solo', '--to', 'linux/s390x', '--kubeconfig', kubeconfig, '--images', images]);
    expect(noVariant.code).toBe(1);
    expect(noVariant.err).toContain('0/2 nodes are available');
    expect(noVariant.err).toMatch(/s390x/);
    untouched();
  });

  it('refuses bad usage with exit 2 and one line', async () => {
    const r = await cli(['migrate', 'solo']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('--to');
  });
});
