/**
 * S1 before the cycles: resolve every image the pending pods use through the
 * ImageResolver port (registry client or offline catalog), a few at a time, into the
 * synchronous lookup the placement core reads. The core never waits on I/O.
 */

import type { ImageInfo, ImageLookup } from '../core/placement/pod-info.ts';
import type { ImageResolver, ResolveOptions } from '../ports/image-resolver.ts';

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
