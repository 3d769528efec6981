/** Image tables for tests about admission and the extender rather than the registry. */
import { createHash } from 'node:crypto';
import type { ImagePlatforms, PlatformSource } from '../../src/core/image/types.ts';
import { comparePlatforms, parsePlatform } from '../../src/core/platform/platform.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { formatReference, type ImageReference } from '../../src/core/image/reference.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { ImageSource, LookupRequest, ResolveResult } from '../../src/ports/image-resolver.ts';
import { realClock } from './real-clock.ts';

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

/**
 * A table behind the ImageSource port: a cache that can be cold or warm (`warm` answers
 * at once, as an in-memory catalog does), and a registry that can be up, unreachable,
 * or hang until the lookup's deadline.
 */
export class MemorySource implements ImageSource {
  readonly table = new Map<string, ImagePlatforms>();
  readonly warm = new Set<string>();
  registry: 'up' | 'unreachable' | 'hang' = 'up';
  lookups = 0;

  constructor(private readonly clock: Clock) {}

  private answer(reference: string): ResolveResult {
    const hit = this.table.get(reference);
    return hit ? { ok: true, value: hit } : { ok: false, error: { kind: 'not-found', message: `${reference}: manifest unknown` } };
  }

  identity(): string {
    return '';
  }

  peek(ref: ImageReference): ResolveResult | undefined {
    const name = formatReference(ref);
    return this.warm.has(name) ? this.answer(name) : undefined;
  }

  async lookup(ref: ImageReference, request: LookupRequest): Promise<ResolveResult> {
    const reference = formatReference(ref);
    this.lookups++;
    if (this.registry === 'unreachable') return { ok: false, error: { kind: 'unreachable', message: `${reference}: registry.example: connect ECONNREFUSED` } };
    if (this.registry === 'hang') {
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, request.deadline - this.clock.now())).unref());
      return { ok: false, error: { kind: 'timeout', message: `${reference}: no answer by the deadline` } };
    }
    const r = this.answer(reference);
    if (r.ok) this.warm.add(reference);
    return r;
  }
}

/**
 * The one image lookup service over a MemorySource, for tests that are about admission
 * and the extender rather than the registry. Failures are not remembered (tests flip
 * the registry between calls); answers are.
 */
export class MemoryResolver extends ImageLookupService {
  readonly source: MemorySource;

  constructor(clock: Clock = realClock) {
    const source = new MemorySource(clock);
    super({ source, clock, negativeTtlMs: 0, transientTtlMs: 0 });
    this.source = source;
  }

  get table(): Map<string, ImagePlatforms> {
    return this.source.table;
  }

  get lookups(): number {
    return this.source.lookups;
  }

  get registry(): MemorySource['registry'] {
    return this.source.registry;
  }

  set registry(state: MemorySource['registry']) {
    this.source.registry = state;
  }

  /** References must be written normalised (registry/repository:tag). */
  add(reference: string, platforms: readonly string[], source: PlatformSource = 'index', warm = true): this {
    this.source.table.set(reference, imagePlatforms(reference, platforms, source));
    if (warm) this.source.warm.add(reference);
    return this;
  }
}
