/**
 * An ImageResolver over a table, for tests that are about admission and the extender
 * rather than the registry: a cache that can be cold or warm, and a registry that can
 * be up, unreachable, or hang until the caller gives up.
 */
import { createHash } from 'node:crypto';
import type { ImagePlatforms, PlatformSource } from '../../src/core/image/types.ts';
import { comparePlatforms, parsePlatform } from '../../src/core/platform/platform.ts';
import type { ImageResolver, ResolveOptions, ResolveResult } from '../../src/ports/image-resolver.ts';

export const digestOf = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/**
 * The platforms of an image. For an index every variant is `repo@digest` of the same
 * repository; for per-arch tags each lives under its own tag (`repo:tag-arch`), pinned.
 */
export function imagePlatforms(reference: string, platforms: readonly string[], source: PlatformSource = 'index'): ImagePlatforms {
  const repo = reference.replace(/:[^/:]+$/, '');
  const tag = /:([^/:]+)$/.exec(reference)?.[1] ?? 'latest';
  const list = platforms.map((text) => {
    const r = parsePlatform(text);
    if (!r.ok) throw new Error(r.error);
    const arch = r.value.architecture + (r.value.variant && r.value.architecture === 'arm' ? r.value.variant : '');
    const digest = digestOf(`${reference} ${text}`);
    const image = source === 'tag-convention' ? `${repo}:${tag}-${arch}@${digest}` : `${repo}@${digest}`;
    return { platform: r.value, digest, image };
  }).sort((a, b) => comparePlatforms(a.platform, b.platform));
  return { reference, source, platforms: list, warnings: [] };
}

export class MemoryResolver implements ImageResolver {
  readonly table = new Map<string, ImagePlatforms>();
  readonly warm = new Set<string>();
  registry: 'up' | 'unreachable' | 'hang' = 'up';
  lookups = 0;

  add(reference: string, platforms: readonly string[], source: PlatformSource = 'index', warm = true): this {
    this.table.set(reference, imagePlatforms(reference, platforms, source));
    if (warm) this.warm.add(reference);
    return this;
  }

  private answer(reference: string): ResolveResult {
    const hit = this.table.get(reference);
    return hit ? { ok: true, value: hit } : { ok: false, error: { kind: 'not-found', message: `${reference}: manifest unknown` } };
  }

  cached(reference: string): ResolveResult | undefined {
    return this.warm.has(reference) ? this.answer(reference) : undefined;
  }

  async resolve(reference: string, options?: ResolveOptions): Promise<ResolveResult> {
    this.lookups++;
    if (this.registry === 'unreachable') return { ok: false, error: { kind: 'unreachable', message: `${reference}: registry.example: connect ECONNREFUSED` } };
    if (this.registry === 'hang') {
      await new Promise<void>((resolve) => {
        if (options?.signal?.aborted) resolve();
        options?.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      return { ok: false, error: { kind: 'timeout', message: `${reference}: aborted` } };
    }
    const r = this.answer(reference);
    if (r.ok) this.warm.add(reference);
    return r;
  }
}
