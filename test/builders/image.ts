/** makeImages({ 'shop/web:1.4': ['linux/amd64', 'linux/arm64'] }) -> an ImageLookup with deterministic digests. */

import { createHash } from 'node:crypto';
import { formatReference, parseReference, repositoryName } from '../../src/core/image/reference.ts';
import type { ImagePlatforms } from '../../src/core/image/types.ts';
import { parsePlatform } from '../../src/core/platform/platform.ts';
import type { ImageInfo, ImageLookup } from '../../src/core/placement/pod-info.ts';

export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export function makeImage(reference: string, platforms: readonly string[]): ImagePlatforms {
  const ref = parseReference(reference);
  if (!ref.ok) throw new Error(ref.error);
  const normal = formatReference(ref.value);
  return {
    reference: normal,
    source: 'catalog',
    platforms: platforms.map((p) => {
      const parsed = parsePlatform(p);
      if (!parsed.ok) throw new Error(parsed.error);
      const digest = digestOf(`${normal}|${p}`);
      return { platform: parsed.value, digest, image: `${repositoryName(ref.value)}@${digest}` };
    }),
    warnings: [],
  };
}

/** A lookup for the given images; references not listed resolve to a "not found" error. */
export function makeImages(images: Readonly<Record<string, readonly string[]>>): ImageLookup {
  const map = new Map<string, ImageInfo>();
  for (const [ref, platforms] of Object.entries(images)) {
    const img = makeImage(ref, platforms);
    map.set(img.reference, { ok: true, value: img });
  }
  return (ref) => map.get(ref) ?? { ok: false, error: `image ${ref}: not found` };
}

/** Every image of any reference exists for these platforms (for tests about other things than images). */
export function anyImage(platforms: readonly string[] = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/loong64', 'linux/riscv64', 'linux/ppc64le', 'linux/s390x']): ImageLookup {
  return (ref) => ({ ok: true, value: makeImage(ref, platforms) });
}
