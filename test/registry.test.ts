// Image platforms from a real docker-registry: every kind of image, tag conventions,
// caching, single flight, tag pagination and mirrors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageLookupService } from '../src/app/image-lookup.ts';
import { registryLookup, type RegistryLookupOptions } from './support/registry-lookup.ts';
import { formatPlatform } from '../src/core/platform/platform.ts';
import type { ResolveResult } from '../src/ports/image-resolver.ts';
import { manualClock } from './support/clock.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { startRegistry, type PushedManifest, type TestRegistry } from './support/registry.ts';

let reg: TestRegistry;
let proxy: FaultProxy;
const img: Record<string, PushedManifest> = {};
const resolvers: ImageLookupService[] = [];

function resolver(options: RegistryLookupOptions = {}): ImageLookupService {
  const r = registryLookup({ clock: manualClock(), ...options });
  resolvers.push(r);
  return r;
}

function ok(r: ResolveResult) {
  if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
  return r.value;
}

const summary = (r: ResolveResult): string[] => ok(r).platforms.map((p) => `${formatPlatform(p.platform)} ${p.image}`);

beforeAll(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.port);
  // An OCI index over an OCI and a Docker manifest, with a buildx attestation.
  img.amd = await reg.pushImage('team/app', '1.4-amd64', 'linux/amd64');
  img.arm = await reg.pushImage('team/app', '1.4-arm64', 'linux/arm64/v8', { format: 'docker' });
  img.armv7 = await reg.pushImage('team/app', '1.4-armv7', 'linux/arm/v7');
  img.index = await reg.pushIndex('team/app', '1.4', [img.amd, img.arm, img.armv7], { format: 'oci', attestation: true });
  // A Docker manifest list; the arm64 entry written without variant.
  img.dAmd = await reg.pushImage('team/legacy', undefined, 'linux/amd64', { format: 'docker' });
  img.dArm = await reg.pushImage('team/legacy', undefined, 'linux/arm64', { format: 'docker' });
  img.dS390 = await reg.pushImage('team/legacy', undefined, 'linux/s390x', { format: 'docker' });
  img.list = await reg.pushIndex('team/legacy', '3.1', [img.dAmd, img.dArm, img.dS390], { format: 'docker' });
  // A single-arch schema2 image, and the same app with per-arch tags beside it.
  img.single = await reg.pushImage('team/single', '2.0', 'linux/amd64', { format: 'docker' });
  img.singleArm = await reg.pushImage('team/single', '2.0-aarch64', 'linux/arm64', { format: 'docker' });
  // Only per-architecture tags: 5.0 itself does not exist. One tag's config contradicts its name.
  img.convAmd = await reg.pushImage('team/conv', '5.0-amd64', 'linux/amd64');
  img.convArm = await reg.pushImage('team/conv', '5.0-arm64v8', 'linux/arm64/v8');
  img.convLoong = await reg.pushImage('team/conv', 'loong64-5.0', 'linux/loong64');
  img.convLiar = await reg.pushImage('team/conv', '5.0-riscv64', 'linux/ppc64le');
  img.convRepo = await reg.pushImage('team/conv-s390x', '5.0', 'linux/s390x');
  img.convUnrelated = await reg.pushImage('team/conv', '5.0.1-amd64', 'linux/amd64');
  // Lies (issue 15): an index entry listed as arm64 whose config says riscv64; a per-arch tag whose config contradicts its name, alone.
  img.lieAmd = await reg.pushImage('team/fib', undefined, 'linux/amd64');
  img.lieRiscv = await reg.pushImage('team/fib', undefined, 'linux/riscv64');
  img.lieIndex = await reg.pushIndex('team/fib', '1.0', [img.lieAmd, img.lieRiscv], { platforms: ['linux/amd64', 'linux/arm64/v8'] });
  img.lonely = await reg.pushImage('team/lonely', '3.0-arm64', 'linux/amd64');
  // The one-call helper other suites use.
  const multi = await reg.pushMultiArch('team/multi', '1.0', ['linux/riscv64', 'linux/loong64', 'linux/arm/v6'], { attestation: true });
  img.multiIndex = multi.index;
  // Many tags, for Link pagination.
  for (let i = 0; i < 6; i++) await reg.pushImage('team/many', `0.${i}`, 'linux/amd64');
  img.manyArm = await reg.pushImage('team/many', '1.0-arm64', 'linux/arm64');
}, 60_000);

afterAll(async () => {
  await Promise.all(resolvers.map((r) => r.close()));
  await proxy?.stop();
  await reg?.stop();
});

describe('kinds of image', () => {
  it('an OCI index: its platforms, attestation ignored, sorted, pinned by digest', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/app:1.4`));
    expect(r.reference).toBe(`${reg.host}/team/app:1.4`);
    expect(r.source).toBe('index');
    expect(summary({ ok: true, value: r })).toEqual([
      `linux/amd64 ${reg.host}/team/app@${img.amd?.digest}`,
      `linux/arm/v7 ${reg.host}/team/app@${img.armv7?.digest}`,
      `linux/arm64/v8 ${reg.host}/team/app@${img.arm?.digest}`,
    ]);
    expect(r.warnings).toEqual([]);
  });

  it('a Docker manifest list, arm64 normalised to v8', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/legacy:3.1`));
    expect(r.source).toBe('index');
    expect(summary({ ok: true, value: r })).toEqual([
      `linux/amd64 ${reg.host}/team/legacy@${img.dAmd?.digest}`,
      `linux/arm64/v8 ${reg.host}/team/legacy@${img.dArm?.digest}`,
      `linux/s390x ${reg.host}/team/legacy@${img.dS390?.digest}`,
    ]);
  });

  it('pushMultiArch: an index over one untagged image per platform', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/multi:1.0`));
    expect(r.platforms.map((p) => formatPlatform(p.platform))).toEqual(['linux/arm/v6', 'linux/loong64', 'linux/riscv64']);
  });

  it('an index by digest', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/legacy@${img.list?.digest}`));
    expect(r.source).toBe('index');
    expect(r.platforms).toHaveLength(3);
  });

  it('a single-arch schema2 image: platform from its config', async () => {
    const r = ok(await resolver({ conventions: [] }).resolve(`${reg.host}/team/single:2.0`));
    expect(r.source).toBe('manifest');
    expect(summary({ ok: true, value: r })).toEqual([`linux/amd64 ${reg.host}/team/single@${img.single?.digest}`]);
  });

  it('a single-arch image with a per-arch tag beside it: both, from the convention', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/single:2.0`));
    expect(r.source).toBe('tag-convention');
    expect(summary({ ok: true, value: r })).toEqual([
      `linux/amd64 ${reg.host}/team/single@${img.single?.digest}`,
      `linux/arm64/v8 ${reg.host}/team/single@${img.singleArm?.digest}`,
    ]);
  });

  it('a per-arch tag asked for directly is a single manifest', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/app:1.4-arm64`));
    expect(r.source).toBe('manifest');
    expect(summary({ ok: true, value: r })).toEqual([`linux/arm64/v8 ${reg.host}/team/app@${img.arm?.digest}`]);
  });

  it('no tag of its own: TAG-ARCH, TAG-ARCHVARIANT, ARCH-TAG and REPO-ARCH:TAG, a lying tag left out with a warning', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/conv:5.0`));
    expect(r.source).toBe('tag-convention');
    expect(summary({ ok: true, value: r })).toEqual([
      `linux/amd64 ${reg.host}/team/conv@${img.convAmd?.digest}`,
      `linux/arm64/v8 ${reg.host}/team/conv@${img.convArm?.digest}`,
      `linux/loong64 ${reg.host}/team/conv@${img.convLoong?.digest}`,
      `linux/s390x ${reg.host}/team/conv-s390x@${img.convRepo?.digest}`,
    ]);
    expect(r.warnings).toEqual(['tag team/conv:5.0-riscv64 is named for riscv64 but its config says linux/ppc64le; left out']);
  });

  it('finds per-arch tags across Link pages', async () => {
    const r = resolver({ limits: { tagPageSize: 2 } });
    const before = proxy.log.length;
    proxy.paginateTags(2);
    const got = ok(await r.resolve(`${proxy.host}/team/many:1.0`));
    proxy.paginateTags(undefined);
    expect(summary({ ok: true, value: got })).toEqual([`linux/arm64/v8 ${proxy.host}/team/many@${img.manyArm?.digest}`]);
    // 7 tags in pages of 2: four requests, each after the last tag of the page before.
    const pages = proxy.log.slice(before).filter((l) => l.path.includes('/team/many/tags/list')).map((l) => l.path);
    expect(pages).toEqual(['/v2/team/many/tags/list?n=2', '/v2/team/many/tags/list?n=2&last=0.1', '/v2/team/many/tags/list?n=2&last=0.3', '/v2/team/many/tags/list?n=2&last=0.5']);
  });
});

describe('lies, rejected and said (issue 15)', () => {
  it("an index entry claiming arm64 whose config says riscv64 is left out with a warning", async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/fib:1.0`));
    expect(summary({ ok: true, value: r })).toEqual([`linux/amd64 ${reg.host}/team/fib@${img.lieAmd?.digest}`]);
    expect(r.warnings).toEqual([`index entry ${img.lieRiscv?.digest} is listed as linux/arm64/v8 but its config says linux/riscv64; left out`]);
  });

  it('index entries are checked once: their manifests and configs are cached by digest', async () => {
    const r = resolver();
    await r.resolve(`${proxy.host}/team/fib:1.0`);
    const before = proxy.log.length;
    await r.resolve(`${proxy.host}/team/fib@${img.lieIndex?.digest}`);
    expect(proxy.log.slice(before).map((l) => l.path)).toEqual([]);
  });

  it('a lying per-arch tag referenced directly: its config is the answer, with a warning', async () => {
    const r = ok(await resolver().resolve(`${reg.host}/team/lonely:3.0-arm64`));
    expect(summary({ ok: true, value: r })).toEqual([`linux/amd64 ${reg.host}/team/lonely@${img.lonely?.digest}`]);
    expect(r.warnings).toEqual(['tag team/lonely:3.0-arm64 is named for arm64 but its config says linux/amd64; the config is what runs']);
  });

  it('when the lying tag is the only candidate, the error says what was rejected and why', async () => {
    const r = await resolver().resolve(`${reg.host}/team/lonely:3.0`);
    expect(r).toEqual({
      ok: false,
      error: {
        kind: 'not-found',
        message: `${reg.host}/team/lonely:3.0: registry ${reg.host} has no manifest team/lonely:3.0 (MANIFEST_UNKNOWN: manifest unknown); per-architecture candidates found but rejected: tag team/lonely:3.0-arm64 is named for arm64 but its config says linux/amd64; left out`,
      },
    });
  });
});

describe('errors the user sees', () => {
  it('an unknown tag with no per-arch tags either', async () => {
    const r = await resolver().resolve(`${reg.host}/team/app:9.9`);
    expect(r).toEqual({
      ok: false,
      error: {
        kind: 'not-found',
        message: `${reg.host}/team/app:9.9: registry ${reg.host} has no manifest team/app:9.9 (MANIFEST_UNKNOWN: manifest unknown); no per-architecture tags or repositories by convention either`,
      },
    });
  });

  it('an unknown repository', async () => {
    const r = await resolver({ conventions: [] }).resolve(`${reg.host}/team/nothing:1`);
    expect(r).toEqual({ ok: false, error: { kind: 'not-found', message: `${reg.host}/team/nothing:1: registry ${reg.host} has no manifest team/nothing:1 (MANIFEST_UNKNOWN: manifest unknown)` } });
  });

  it('an invalid reference', async () => {
    const r = await resolver().resolve('127.0.0.1:5000/Team/App');
    expect(r).toEqual({ ok: false, error: { kind: 'invalid-reference', message: 'invalid image reference "127.0.0.1:5000/Team/App": repository name must be lower-case' } });
  });
});

describe('caching', () => {
  it('cached() answers from the cache without I/O, after a resolve', async () => {
    const r = resolver();
    const ref = `${proxy.host}/team/app:1.4`;
    expect(r.cached(ref)).toBeUndefined();
    const first = await r.resolve(ref);
    const before = proxy.log.length;
    expect(r.cached(ref)).toEqual(first);
    expect(r.cached(`${proxy.host}/team/app:1.4`)).toEqual(first);
    expect(await r.resolve(ref)).toEqual(first);
    expect(proxy.log.length).toBe(before);
  });

  it('entries expire after the TTL; a digest reference lives longer', async () => {
    const clock = manualClock();
    const r = resolver({ clock, cacheTtlMs: 60_000 });
    const ref = `${proxy.host}/team/app:1.4`;
    const pinned = `${proxy.host}/team/app@${img.index?.digest}`;
    await r.resolve(ref);
    await r.resolve(pinned);
    clock.advance(59_000);
    expect(r.cached(ref)?.ok).toBe(true);
    clock.advance(2_000);
    expect(r.cached(ref)).toBeUndefined();
    expect(r.cached(pinned)?.ok).toBe(true);
  });

  it('failures are cached too (negative cache), for their shorter TTL', async () => {
    const clock = manualClock();
    const r = resolver({ clock, negativeTtlMs: 10_000 });
    const ref = `${proxy.host}/team/app:0.0.0`;
    const first = await r.resolve(ref);
    expect(!first.ok && first.error.kind).toBe('not-found');
    const before = proxy.log.length;
    expect(await r.resolve(ref)).toEqual(first);
    expect(r.cached(ref)).toEqual(first);
    expect(proxy.log.length).toBe(before);
    clock.advance(10_001);
    expect(r.cached(ref)).toBeUndefined();
  });

  it('identical concurrent lookups share one request', async () => {
    const r = resolver({ conventions: [] });
    const ref = `${proxy.host}/team/legacy:3.1`;
    const before = proxy.log.length;
    const all = await Promise.all(Array.from({ length: 8 }, () => r.resolve(ref)));
    for (const x of all) expect(x).toEqual(all[0]);
    const manifestGets = proxy.log.slice(before).filter((l) => l.path === '/v2/team/legacy/manifests/3.1');
    expect(manifestGets).toHaveLength(1);
  });

  it('configs are cached by digest across references', async () => {
    const r = resolver({ conventions: [] });
    await r.resolve(`${proxy.host}/team/single:2.0`);
    const before = proxy.log.length;
    await r.resolve(`${proxy.host}/team/single@${img.single?.digest}`);
    expect(proxy.log.slice(before).filter((l) => l.path.includes('/blobs/'))).toEqual([]);
    expect(proxy.log.slice(before).filter((l) => l.path.includes('/manifests/'))).toEqual([]);
  });
});

describe('mirrors', () => {
  it('asks the mirror first and keeps the registry name in the result', async () => {
    const r = resolver({ mirrors: { 'registry.example.invalid': [proxy.host] } });
    const got = ok(await r.resolve('registry.example.invalid/team/legacy:3.1'));
    expect(got.reference).toBe('registry.example.invalid/team/legacy:3.1');
    expect(got.platforms.map((p) => p.image)).toContain(`registry.example.invalid/team/legacy@${img.dAmd?.digest}`);
  });

  it('falls back to the registry when the mirror is down, with a warning', async () => {
    const dead = await startFaultProxy(1);
    const deadHost = dead.host;
    await dead.stop();
    const r = resolver({ mirrors: { [reg.host]: [deadHost] }, attempts: 1 });
    const got = ok(await r.resolve(`${reg.host}/team/legacy:3.1`));
    expect(got.platforms).toHaveLength(3);
    expect(got.warnings[0]).toMatch(new RegExp(`^mirror ${deadHost} failed \\(registry ${deadHost} unreachable \\(ECONNREFUSED`));
  });
});
