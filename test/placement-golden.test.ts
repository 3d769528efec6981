/**
 * Golden tests: realistic manifests in test/fixtures/placement/<case>/ scheduled with
 * seed 1; the decisions must equal expected.json, and the facts each case is named after
 * are asserted by hand as well, so a regenerated golden cannot hide a bug.
 *
 * UPDATE_GOLDEN=1 rewrites an expected.json that differs and still fails, printing the
 * difference against the old one: review it (git diff), then run again without it.
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readManifests } from '../src/adapters/manifests/read.ts';
import { loadImageCatalog } from '../src/adapters/registry/catalog.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { ImageLookupService } from '../src/app/image-lookup.ts';
import { createFramework, imageReferences, createRng, scheduleCluster, splitPods, type Decision } from '../src/core/placement/index.ts';

const root = join(import.meta.dirname, 'fixtures', 'placement');

async function plan(name: string) {
  const dir = join(root, name);
  const files = readdirSync(dir).filter((f) => /^(cluster|workloads)\.(ya?ml|json)$/.test(f)).sort().map((f) => join(dir, f));
  const catalogFile = readdirSync(dir).find((f) => f.startsWith('images.'));
  const manifests = await readManifests(files);
  if (!manifests.ok) throw new Error(manifests.error);
  const catalog = await loadImageCatalog(join(dir, catalogFile ?? ''));
  if (!catalog.ok) throw new Error(catalog.error);
  const fw = createFramework();
  if (!fw.ok) throw new Error(fw.error);
  const { lookup } = await new ImageLookupService({ source: catalog.value, clock: systemClock }).resolveAll(imageReferences(splitPods(manifests.value).pending.map((p) => p.pod)));
  return { objects: manifests.value, result: scheduleCluster(fw.value, manifests.value, lookup, createRng(1)) };
}

function golden(name: string, decisions: readonly Decision[]): void {
  const actual = decisions.map((d) => ({ pod: d.pod, node: d.node, platform: d.platform, images: d.images, reason: d.reason }));
  const file = join(root, name, 'expected.json');
  const expected: unknown = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  const plain: unknown = JSON.parse(JSON.stringify(actual));
  const rewritten = process.env['UPDATE_GOLDEN'] === '1' && !isDeepStrictEqual(plain, expected);
  if (rewritten) writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  // When rewritten, this still compares with the old file: the run fails and shows the difference.
  expect(plain, rewritten ? `${file} rewritten (UPDATE_GOLDEN=1): review the difference, then run without UPDATE_GOLDEN` : file).toEqual(expected);
}

const on = (decisions: readonly Decision[], prefix: string) => decisions.filter((d) => d.pod.startsWith(prefix));

describe('golden: x86-64 + Graviton arm64 with an arm64 NoSchedule taint', () => {
  it('places tolerant multi-arch pods on both, others on amd64, and explains refusals', async () => {
    const { result } = await plan('graviton');
    golden('graviton', result.decisions);
    const d = result.decisions;
    const arm = new Set(['ip-10-0-1-21.ec2.internal', 'ip-10-0-2-22.ec2.internal', 'ip-10-0-3-23.ec2.internal']);
    // web tolerates the taint and is multi-arch: it uses both pools
    expect(new Set(on(d, 'shop/web-').map((x) => x.platform))).toEqual(new Set(['linux/amd64', 'linux/arm64']));
    // api has no toleration, billing has an amd64-only image: never on arm64
    for (const x of [...on(d, 'shop/api-'), ...on(d, 'shop/billing-')]) expect(arm.has(x.node ?? '')).toBe(false);
    // the arm64-only batch image without the toleration: no node, and both reasons named
    const report = on(d, 'shop/nightly-report-')[0];
    expect(report?.node).toBeNull();
    expect(report?.reason).toContain("3 node(s) can't run any platform of image registry.example.com/shop/batch:1.0 (has linux/arm64)");
    expect(report?.reason).toContain('3 node(s) had untolerated taint {kubernetes.io/arch: arm64}');
    expect(on(d, 'shop/huge')[0]?.reason).toBe('0/6 nodes are available: 6 Insufficient cpu.');
    // the priority class puts web first
    expect(d[0]?.pod).toMatch(/^shop\/web-/);
    // arm64 web pods get the arm64 digest
    for (const x of on(d, 'shop/web-').filter((x) => x.platform === 'linux/arm64')) expect(x.images['web']).toMatch(/^registry\.example\.com\/shop\/web@sha256:/);
  });
});

describe('golden: LoongArch / arm64 / amd64 with per-arch tags', () => {
  it('uses all three architectures, honours the preference and the selector', async () => {
    const { result } = await plan('loongarch');
    golden('loongarch', result.decisions);
    const d = result.decisions;
    expect(new Set(on(d, 'erp/erp-').map((x) => x.platform))).toEqual(new Set(['linux/amd64', 'linux/arm64', 'linux/loong64']));
    // report has no loong64 build
    for (const x of on(d, 'erp/report-')) expect(x.platform).not.toBe('linux/loong64');
    // db prefers the loongson nodes (weight 100)
    for (const x of on(d, 'erp/db-')) expect(x.platform).toBe('linux/loong64');
    for (const x of on(d, 'erp/etl-')) expect(x.node).toMatch(/^ls-0[12]$/);
    // the cordoned node takes nothing
    expect(d.some((x) => x.node === 'hg-02')).toBe(false);
  });
});

describe('golden: DaemonSets and init containers', () => {
  it('one daemon pod per eligible node, the amd64-only init container decides the platform', async () => {
    const { result } = await plan('daemonsets');
    golden('daemonsets', result.decisions);
    const d = result.decisions;
    expect(on(d, 'monitoring/node-exporter-').map((x) => x.node).sort()).toEqual(['box-1', 'gw-1', 'rv-1', 'srv-1', 'srv-2']);
    expect(on(d, 'monitoring/node-exporter-').find((x) => x.node === 'gw-1')?.platform).toBe('linux/arm/v7');
    expect(on(d, 'ops/gpu-agent-').map((x) => x.node)).toEqual(['srv-1']);
    const shipper = on(d, 'ops/shipper-');
    expect(shipper).toHaveLength(5);
    expect(shipper.filter((x) => x.node === null)).toHaveLength(3);
    for (const x of shipper.filter((x) => x.node === null)) expect(x.reason).toContain("1 node(s) can't run any platform of image registry.example.com/ops/gpu-agent:2 (has linux/amd64)");
    // web: 3 cpu effective (the amd64-only migrate init container), only srv-2 runs it: two fit in 8 cpu
    const web = on(d, 'shop/web-');
    expect(web).toHaveLength(3);
    // web and envoy exist for arm64 too: only the init container keeps web off box-1 (arm64)
    for (const x of web.filter((x) => x.node !== null)) expect(x.platform).toBe('linux/amd64');
    expect(web.find((x) => x.node === null)?.reason).toContain("node(s) can't run any platform of image registry.example.com/shop/migrate:1.4 (has linux/amd64)");
    expect(web.filter((x) => x.node === 'srv-2')).toHaveLength(2);
    expect(web.filter((x) => x.node === null)[0]?.reason).toContain('1 Insufficient cpu');
    expect(Object.keys(web[0]?.images ?? {}).sort()).toEqual(['envoy', 'migrate', 'web']);
    expect(on(d, 'ops/gw-probe')[0]?.images['wait']).toMatch(/busybox@sha256:/);
  });
});

describe('examples/placement', () => {
  it('the example a user copies schedules and explains its refusals', async () => {
    const ex = join(import.meta.dirname, '..', 'examples', 'placement');
    const manifests = await readManifests([join(ex, 'cluster.yaml'), join(ex, 'workloads.yaml')]);
    const catalog = await loadImageCatalog(join(ex, 'images.yaml'));
    if (!manifests.ok || !catalog.ok) throw new Error('example does not load');
    const fw = createFramework();
    if (!fw.ok) throw new Error(fw.error);
    const { lookup } = await new ImageLookupService({ source: catalog.value, clock: systemClock }).resolveAll(imageReferences(splitPods(manifests.value).pending.map((p) => p.pod)));
    const d = scheduleCluster(fw.value, manifests.value, lookup, createRng(1)).decisions;
    expect(d.filter((x) => x.outcome === 'scheduled')).toHaveLength(8);
    expect(d.filter((x) => x.outcome !== 'scheduled').map((x) => x.reason.slice(0, 25))).toEqual(['0/6 nodes are available: ', '0/6 nodes are available: ']);
  });
});
