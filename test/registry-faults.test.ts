// Faults between polyarch and a real docker-registry, injected by a loopback proxy,
// each with the error the user sees.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImageLookupService } from '../src/app/image-lookup.ts';
import { registryLookup, type RegistryLookupOptions } from './support/registry-lookup.ts';
import { manualClock, type ManualClock } from './support/clock.ts';
import { realClock } from './support/real-clock.ts';
import { eventually } from './kube/helpers.ts';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { freePort, startRegistry, type PushedManifest, type TestRegistry } from './support/registry.ts';

let reg: TestRegistry;
let proxy: FaultProxy;
let index: PushedManifest;
let clock: ManualClock;
const resolvers: ImageLookupService[] = [];
const resolver = (o: RegistryLookupOptions = {}): ImageLookupService => {
  clock = manualClock();
  const r = registryLookup({ clock, conventions: [], ...o });
  resolvers.push(r);
  return r;
};
const ref = (): string => `${proxy.host}/team/app:1.4`;
const manifestPath = /^\/v2\/team\/app\/manifests\/1\.4$/;

beforeAll(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.port);
  const amd = await reg.pushImage('team/app', '1.4-amd64', 'linux/amd64');
  const arm = await reg.pushImage('team/app', '1.4-arm64', 'linux/arm64/v8');
  index = await reg.pushIndex('team/app', '1.4', [amd, arm]);
  await reg.pushImage('team/single', '1.0', 'linux/riscv64');
}, 60_000);

afterEach(() => proxy.clear());

afterAll(async () => {
  await Promise.all(resolvers.map((r) => r.close()));
  await proxy?.stop();
  await reg?.stop();
});

describe('faults', () => {
  it('registry down: unreachable', async () => {
    const port = await freePort();
    const r = await resolver().resolve(`127.0.0.1:${port}/team/app:1.4`);
    expect(r).toEqual({ ok: false, error: { kind: 'unreachable', message: `127.0.0.1:${port}/team/app:1.4: registry 127.0.0.1:${port} unreachable (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port})` } });
  });

  it('a host without the registry API', async () => {
    proxy.fault({ path: /^\/v2\/$/, status: 404 });
    const r = await resolver().resolve(ref());
    expect(r).toEqual({ ok: false, error: { kind: 'not-found', message: `${ref()}: ${proxy.host} is not an OCI registry (no /v2/ API)` } });
  });

  it('500 then success: retried with backoff', async () => {
    proxy.fault({ path: manifestPath, status: 500, times: 2 });
    const r = await resolver().resolve(ref());
    expect(r.ok && r.value.platforms).toHaveLength(2);
    expect(clock.sleeps).toEqual([250, 500]);
    expect(proxy.log.filter((l) => manifestPath.test(l.path)).slice(-3).map((l) => l.status)).toEqual([500, 500, 200]);
  });

  it('429 then success: waits as long as Retry-After says', async () => {
    proxy.fault({ path: manifestPath, status: 429, retryAfter: '2' });
    const r = await resolver().resolve(ref());
    expect(r.ok).toBe(true);
    expect(clock.sleeps).toEqual([2000]);
  });

  it('429 with an HTTP-date Retry-After', async () => {
    const res = resolver();
    proxy.fault({ path: manifestPath, status: 429, retryAfter: new Date(clock.now() + 3000).toUTCString() });
    expect((await res.resolve(ref())).ok).toBe(true);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('429 for good: rate-limited', async () => {
    proxy.fault({ path: manifestPath, status: 429, retryAfter: '1', times: Infinity });
    const r = await resolver().resolve(ref());
    expect(r).toEqual({ ok: false, error: { kind: 'rate-limited', message: `${ref()}: registry ${proxy.host} rate-limited manifest team/app:1.4 (HTTP 429 after 3 attempts, Retry-After 1)` } });
  });

  it('a Retry-After beyond the limit is not waited for', async () => {
    proxy.fault({ path: manifestPath, status: 429, retryAfter: '3600', times: Infinity });
    const r = await resolver({ maxRetryAfterMs: 10_000 }).resolve(ref());
    expect(r).toEqual({ ok: false, error: { kind: 'rate-limited', message: `${ref()}: registry ${proxy.host} rate-limited manifest team/app:1.4 (HTTP 429 after 1 attempt, Retry-After 3600)` } });
    expect(clock.sleeps).toEqual([]);
  });

  it('503 for good: the registry failed', async () => {
    proxy.fault({ path: manifestPath, status: 503, times: Infinity });
    const r = await resolver().resolve(ref());
    expect(r).toEqual({ ok: false, error: { kind: 'unreachable', message: `${ref()}: registry ${proxy.host} failed on manifest team/app:1.4: HTTP 503 after 3 attempts (UNAVAILABLE: injected 503)` } });
  });

  it('malformed JSON: invalid manifest', async () => {
    proxy.fault({ path: manifestPath, action: 'malformed-json' });
    const r = await resolver().resolve(ref());
    expect(!r.ok && r.error.kind).toBe('invalid-manifest');
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^${ref()}: team/app:1\\.4 from registry ${proxy.host}: manifest is not valid JSON \\(`));
  });

  it('oversized manifest: refused at 4 MiB without reading it all', async () => {
    proxy.fault({ path: manifestPath, action: 'oversized', bytes: 6 * 1024 * 1024 });
    const r = await resolver().resolve(ref());
    expect(r).toEqual({ ok: false, error: { kind: 'too-large', message: `${ref()}: manifest team/app:1.4 from registry ${proxy.host} is larger than the 4 MiB limit` } });
  });

  it('digest mismatch: a body altered in transit', async () => {
    proxy.fault({ path: manifestPath, action: 'corrupt' });
    const r = await resolver().resolve(ref());
    expect(!r.ok && r.error.kind).toBe('digest-mismatch');
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^${ref()}: manifest team/app:1\\.4 from registry ${proxy.host} hashes to sha256:[a-f0-9]{64}, not ${index.digest}; the body was altered in transit or by the registry$`));
  });

  it('digest mismatch on a manifest fetched by digest', async () => {
    proxy.fault({ path: /manifests\/sha256:/, action: 'corrupt' });
    const r = await resolver().resolve(`${proxy.host}/team/app@${index.digest}`);
    expect(!r.ok && r.error.kind).toBe('digest-mismatch');
    expect(!r.ok && r.error.message).toContain(`not ${index.digest}`);
  });

  it('a corrupt config blob', async () => {
    proxy.fault({ path: /\/v2\/team\/single\/blobs\//, action: 'corrupt' });
    const r = await resolver().resolve(`${proxy.host}/team/single:1.0`);
    expect(!r.ok && r.error.kind).toBe('digest-mismatch');
    expect(!r.ok && r.error.message).toMatch(/config blob sha256:[a-f0-9]{64} of team\/single from registry .* hashes to sha256:/);
  });

  it('schema 1: refused with a clear message', async () => {
    proxy.fault({ path: manifestPath, action: 'schema1' });
    const r = await resolver().resolve(ref());
    expect(r).toEqual({
      ok: false,
      error: { kind: 'invalid-manifest', message: `${ref()}: team/app:1.4 from registry ${proxy.host}: manifest: Docker image manifest schema 1 is not supported (deprecated; re-push the image with a current Docker or buildx to get schema 2 or OCI)` },
    });
  });

  it('a registry that does not answer: timeout', async () => {
    proxy.fault({ path: manifestPath, action: 'hang' });
    const r = await resolver({ timeoutMs: 300 }).resolve(ref());
    expect(r).toEqual({ ok: false, error: { kind: 'timeout', message: `${ref()}: registry ${proxy.host} did not answer within 300 ms` } });
  });

  it('a caller that gives up does not cancel the lookup for others waiting on it', async () => {
    proxy.fault({ path: manifestPath, action: 'hang' });
    const res = resolver({ timeoutMs: 400 });
    const abort = new AbortController();
    const first = res.resolve(ref(), { signal: abort.signal });
    const second = res.resolve(ref());
    abort.abort();
    expect(await first).toEqual({ ok: false, error: { kind: 'other', message: `${ref()}: lookup cancelled by the caller` } });
    expect(await second).toEqual({ ok: false, error: { kind: 'timeout', message: `${ref()}: registry ${proxy.host} did not answer within 400 ms` } });
  });

  it('a registry that sends one byte a second: the whole lookup ends at its deadline (issue 15)', async () => {
    // Each byte comes well within the per-request timeout, so only a whole-lookup deadline stops it.
    proxy.fault({ path: manifestPath, action: 'drip', dripMs: 200 });
    const res = resolver({ clock: realClock, timeoutMs: 5_000, deadlineMs: 1_000 });
    const r = await res.resolve(ref());
    expect(!r.ok && r.error.kind).toBe('timeout');
    // Which request the deadline cuts depends on how loaded the machine is; that it is cut does not.
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^${ref()}: registry ${proxy.host} did not finish the lookup within its 1000 ms deadline \\([^)]+ unfinished\\)$`));
    const drip = proxy.drips.at(-1);
    if (drip) {
      // Cut mid-body: the answer was still trickling in.
      await eventually(() => (drip.abandoned ? true : undefined), 10_000, 'the dripping response to be abandoned');
      expect(drip.sent < drip.total).toBe(true);
    }
    expect(res.inFlight).toBe(0);
  });

  it('a dropped connection is retried', async () => {
    proxy.fault({ path: manifestPath, action: 'reset' });
    const r = await resolver().resolve(ref());
    expect(r.ok).toBe(true);
    expect(clock.sleeps).toEqual([250]);
  });

  it('connections dropped every time: unreachable', async () => {
    proxy.fault({ path: manifestPath, action: 'reset', times: Infinity });
    const r = await resolver().resolve(ref());
    expect(!r.ok && r.error.kind).toBe('unreachable');
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^${ref()}: registry ${proxy.host} dropped the connection 3 times \\(`));
  });

  it('a transient failure is cached only briefly', async () => {
    proxy.fault({ path: manifestPath, status: 503, times: 3 });
    const res = resolver({ transientTtlMs: 5_000 });
    expect((await res.resolve(ref())).ok).toBe(false);
    expect(res.cached(ref())?.ok).toBe(false);
    clock.advance(5_001);
    expect(res.cached(ref())).toBeUndefined();
    expect((await res.resolve(ref())).ok).toBe(true);
  });
});
