import { describe, expect, it } from 'vitest';
import type { ImageResolver, ResolveResult } from '../ports/image-resolver.ts';
import { resolveImages } from './resolve-images.ts';

describe('resolveImages', () => {
  it('asks the cache first, resolves the rest, keeps failures as messages', async () => {
    const asked: string[] = [];
    const ok = (reference: string): ResolveResult => ({ ok: true, value: { reference, source: 'catalog', platforms: [], warnings: [] } });
    const resolver: ImageResolver = {
      cached: (ref) => (ref === 'docker.io/library/a:1' ? ok(ref) : undefined),
      resolve: (ref) => {
        asked.push(ref);
        return Promise.resolve(ref.endsWith('bad:1') ? { ok: false, error: { kind: 'not-found', message: `image ${ref}: manifest unknown` } } : ok(ref));
      },
    };
    const refs = ['docker.io/library/a:1', 'docker.io/library/b:1', 'docker.io/library/bad:1'];
    const { lookup } = await resolveImages(resolver, refs, { concurrency: 2 });
    expect(asked.sort()).toEqual(['docker.io/library/b:1', 'docker.io/library/bad:1']);
    expect(lookup('docker.io/library/a:1')?.ok).toBe(true);
    expect(lookup('docker.io/library/bad:1')).toEqual({ ok: false, error: 'image docker.io/library/bad:1: manifest unknown' });
    expect(lookup('docker.io/library/zzz:1')).toBeUndefined();
  });
});
