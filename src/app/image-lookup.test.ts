import { describe, expect, it } from 'vitest';
import { formatReference, type ImageReference } from '../core/image/reference.ts';
import type { Clock } from '../ports/clock.ts';
import type { ImageSource, LookupRequest, RegistryCredentials, ResolveResult } from '../ports/image-resolver.ts';
import { ImageLookupService, isTransientImageError } from './image-lookup.ts';

const clockAt = (t: { now: number }): Clock => ({ now: () => t.now, sleep: async () => undefined });
const ok = (reference: string): ResolveResult => ({ ok: true, value: { reference, source: 'manifest', platforms: [], warnings: [] } });
const secret: RegistryCredentials = { auths: { 'reg.example': { username: 'u', password: 'p' } } };

/** A source that answers after `release()`, records every lookup, and reads `reg.example/private/*` only with credentials. */
function source(): ImageSource & { asked: { ref: string; identity: string; deadline: number }[]; release: () => void } {
  const asked: { ref: string; identity: string; deadline: number }[] = [];
  let waiting: (() => void)[] = [];
  const identity = (_ref: ImageReference, credentials: readonly RegistryCredentials[]): string => (credentials.length > 0 ? 'secret' : '');
  return {
    asked,
    release: () => {
      for (const w of waiting) w();
      waiting = [];
    },
    identity,
    async lookup(ref: ImageReference, request: LookupRequest): Promise<ResolveResult> {
      const name = formatReference(ref);
      asked.push({ ref: name, identity: identity(ref, request.credentials), deadline: request.deadline });
      await new Promise<void>((r) => waiting.push(r));
      if (name.endsWith(':down')) return { ok: false, error: { kind: 'unreachable', message: `${name}: down` } };
      if (ref.repository.startsWith('private/') && request.credentials.length === 0) return { ok: false, error: { kind: 'unauthorized', message: `${name}: 401` } };
      return ok(name);
    },
  };
}

describe('ImageLookupService', () => {
  it('one lookup in flight per reference and identity, with the whole-lookup deadline; answers cached per identity', async () => {
    const t = { now: 1_000 };
    const src = source();
    const s = new ImageLookupService({ source: src, clock: clockAt(t), deadlineMs: 2_000 });
    const ref = 'reg.example/private/app:1';
    const a = s.resolve(ref);
    const b = s.resolve(ref);
    const c = s.resolve(ref, { credentials: [secret] });
    expect(s.inFlight).toBe(2);
    src.release();
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect(src.asked).toEqual([{ ref, identity: '', deadline: 3_000 }, { ref, identity: 'secret', deadline: 3_000 }]);
    expect(ra).toBe(rb);
    expect(!ra.ok && ra.error.kind).toBe('unauthorized');
    expect(rc.ok).toBe(true);
    // The private answer is not served to a caller without the secret; theirs is their own failure.
    expect(s.cached(ref)).toEqual(ra);
    expect(s.cached(ref, [secret])).toEqual(rc);
  });

  it('an answer read with no credential serves every caller; a failure does not', async () => {
    const src = source();
    const s = new ImageLookupService({ source: src, clock: clockAt({ now: 0 }) });
    const p = s.resolve('reg.example/open/app:1');
    src.release();
    await p;
    expect(s.cached('reg.example/open/app:1', [secret])?.ok).toBe(true);
    const q = s.resolve('reg.example/private/app:1');
    src.release();
    expect((await q).ok).toBe(false);
    expect(s.cached('reg.example/private/app:1', [secret])).toBeUndefined();
  });

  it('remembers transient failures for transientTtlMs, permanent ones for negativeTtlMs', async () => {
    const t = { now: 0 };
    const src = source();
    const s = new ImageLookupService({ source: src, clock: clockAt(t), transientTtlMs: 5, negativeTtlMs: 50 });
    const down = s.resolve('reg.example/open/app:down');
    const refused = s.resolve('reg.example/private/app:1');
    src.release();
    const [d, r] = await Promise.all([down, refused]);
    expect(!d.ok && isTransientImageError(d.error)).toBe(true);
    expect(!r.ok && isTransientImageError(r.error)).toBe(false);
    t.now = 5;
    expect(s.cached('reg.example/open/app:down')).toBeUndefined();
    expect(s.cached('reg.example/private/app:1')).toEqual(r);
    t.now = 50;
    expect(s.cached('reg.example/private/app:1')).toBeUndefined();
  });

  it('resolveAll: cache first, the rest looked up, failures kept as messages; an invalid reference needs no source', async () => {
    const src = source();
    const s = new ImageLookupService({ source: src, clock: clockAt({ now: 0 }) });
    const warm = s.resolve('reg.example/open/a:1');
    src.release();
    await warm;
    const all = s.resolveAll(['reg.example/open/a:1', 'reg.example/private/b:1', 'Not/A:Ref!']);
    await new Promise((r) => setImmediate(r));
    src.release();
    const { lookup } = await all;
    expect(src.asked.map((a) => a.ref)).toEqual(['reg.example/open/a:1', 'reg.example/private/b:1']);
    expect(lookup('reg.example/open/a:1')?.ok).toBe(true);
    expect(lookup('reg.example/private/b:1')).toEqual({ ok: false, error: 'reg.example/private/b:1: 401' });
    expect(lookup('Not/A:Ref!')?.ok).toBe(false);
  });

  it('normalised: the name the cache keys on, the same however often asked; an invalid reference is undefined every time', () => {
    const s = new ImageLookupService({ source: source(), clock: clockAt({ now: 0 }) });
    for (let i = 0; i < 2; i++) {
      expect(s.normalised('nginx')?.name).toBe('docker.io/library/nginx:latest');
      expect(s.normalised('reg.example/open/a:1')?.ref).toEqual({ registry: 'reg.example', repository: 'open/a', tag: '1', digest: undefined });
      expect(s.normalised('Not/A:Ref!')).toBeUndefined();
      expect(s.cached('Not/A:Ref!')).toMatchObject({ ok: false, error: { kind: 'invalid-reference' } });
    }
  });

  it('no answer, cached, fresh or peeked, offers a digest for a platform it was seen not to run on', async () => {
    const arm = `sha256:${'a'.repeat(64)}`;
    const amd = `sha256:${'b'.repeat(64)}`;
    const answer: ResolveResult = {
      ok: true,
      value: {
        reference: 'reg.example/open/web:1', source: 'index', warnings: [],
        platforms: [
          { platform: { os: 'linux', architecture: 'amd64', variant: '' }, digest: amd, image: `reg.example/open/web@${amd}` },
          { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, digest: arm, image: `reg.example/open/web@${arm}` },
        ],
      },
    };
    const src: ImageSource = { identity: () => '', lookup: async () => answer };
    const s = new ImageLookupService({ source: src, clock: clockAt({ now: 0 }) });
    const before = await s.resolve('reg.example/open/web:1');
    expect(before.ok && before.value.platforms.length).toBe(2);
    const bad = { digest: arm, platform: 'linux/arm64/v8', image: 'reg.example/open/web:1', pod: 'default/web', node: 'arm-1', message: 'exec format error', at: '2026-01-05T00:00:00Z' };
    expect(s.noteBadPlatforms([bad, bad])).toBe(1);
    const digests = (r: ResolveResult | undefined): string[] => (r?.ok ? r.value.platforms.map((p) => p.digest) : []);
    expect(digests(s.cached('reg.example/open/web:1'))).toEqual([amd]);
    expect(digests(await s.resolve('reg.example/open/web:1'))).toEqual([amd]);
    const pod = await s.resolvePod({}, [{ kind: 'containers', index: 0, container: 'web', image: 'reg.example/open/web:1' }], { waitMs: 1_000 });
    expect(pod.ok && pod.value[0]?.platforms.platforms.map((p) => p.digest)).toEqual([amd]);
    expect(s.cachedPod([{ kind: 'containers', index: 0, container: 'web', image: 'reg.example/open/web:1' }]).resolved[0]?.platforms.platforms.map((p) => p.digest)).toEqual([amd]);
    const peeking = new ImageLookupService({ source: { ...src, peek: () => answer }, clock: clockAt({ now: 0 }) });
    peeking.noteBadPlatforms([bad]);
    expect(digests(peeking.cached('reg.example/open/web:1'))).toEqual([amd]);
    expect(s.badPlatforms()).toEqual([bad]);
  });
});
