/**
 * Resolving a pod's images within a deadline: from the resolver's cache when it is
 * warm, else from the registry, abandoned at the deadline so a kube-scheduler thread
 * or an admission request never hangs on an unreachable registry.
 */
import type { SpecImage } from '../core/admission/pod.ts';
import type { ResolvedImage } from '../core/admission/platforms.ts';
import type { Clock } from '../ports/clock.ts';
import type { ImageResolver, ResolveError, ResolveResult } from '../ports/image-resolver.ts';

export type ImagesResult = { ok: true; value: ResolvedImage[] } | { ok: false; error: ResolveError & { image: string } };

/** Cache only: undefined on a miss, never any I/O (the admission path). */
export function resolveCached(resolver: ImageResolver, images: readonly SpecImage[]): { resolved: ResolvedImage[]; missing: SpecImage[]; failed: { image: SpecImage; error: ResolveError }[] } {
  const resolved: ResolvedImage[] = [];
  const missing: SpecImage[] = [];
  const failed: { image: SpecImage; error: ResolveError }[] = [];
  for (const image of images) {
    const r = image.image ? resolver.cached(image.image) : { ok: false as const, error: { kind: 'invalid-reference' as const, message: `container ${image.container}: no image` } };
    if (r === undefined) missing.push(image);
    else if (r.ok) resolved.push({ image, platforms: r.value });
    else failed.push({ image, error: r.error });
  }
  return { resolved, missing, failed };
}

export async function resolveWithin(resolver: ImageResolver, clock: Clock, images: readonly SpecImage[], deadlineMs: number, signal?: AbortSignal): Promise<ImagesResult> {
  if (images.some((i) => !i.image)) {
    const bad = images.find((i) => !i.image);
    return { ok: false, error: { kind: 'invalid-reference', message: `container ${bad?.container ?? '?'}: no image`, image: '' } };
  }
  const refs = [...new Set(images.map((i) => i.image))];
  const results = new Map<string, ResolveResult>();
  const todo: string[] = [];
  for (const ref of refs) {
    const c = resolver.cached(ref);
    if (c !== undefined && (c.ok || c.error.kind !== 'unreachable')) results.set(ref, c);
    else todo.push(ref);
  }
  if (todo.length > 0) {
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const lookups = Promise.all(todo.map(async (ref) => [ref, await resolver.resolve(ref, { signal: abort.signal })] as const));
      const timer = clock.sleep(deadlineMs, abort.signal).then(() => 'timeout' as const, () => 'timeout' as const);
      const got = await Promise.race([lookups, timer]);
      if (got === 'timeout') {
        const pending = todo.join(', ');
        return { ok: false, error: { kind: 'timeout', message: `registry lookup of ${pending} took longer than ${deadlineMs} ms`, image: todo[0] ?? '' } };
      }
      for (const [ref, r] of got) results.set(ref, r);
    } finally {
      abort.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }
  const value: ResolvedImage[] = [];
  for (const image of images) {
    const r = results.get(image.image);
    if (!r) return { ok: false, error: { kind: 'other', message: `no result for ${image.image}`, image: image.image } };
    if (!r.ok) return { ok: false, error: { ...r.error, image: image.image } };
    value.push({ image, platforms: r.value });
  }
  return { ok: true, value };
}

// ---- from placement (merged in the kube branch so both compile; the lead may keep one module) ----
import type { ImageInfo, ImageLookup } from '../core/placement/pod-info.ts';
import type { ResolveOptions } from '../ports/image-resolver.ts';

export async function resolveImages(resolver: ImageResolver, references: readonly string[], options: ResolveOptions & { concurrency?: number } = {}): Promise<{ lookup: ImageLookup; results: ReadonlyMap<string, ImageInfo> }> {
  const results = new Map<string, ImageInfo>();
  const queue = [...references];
  const worker = async (): Promise<void> => {
    for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
      const r = resolver.cached(ref) ?? (await resolver.resolve(ref, options));
      results.set(ref, r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, queue.length)) }, worker));
  return { lookup: (ref) => results.get(ref), results };
}
