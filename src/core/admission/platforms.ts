/**
 * Which platforms a pod can run on, from the platforms of its images (S1 -> S2), as the
 * webhook and the gate controller write them into node affinity: the placement core's
 * supportedPlatforms (every container, init containers included, has a variant that
 * runs there) reduced to (os, architecture) pairs.
 */
import { needsVariantWrite, type ImagePlatforms } from '../image/types.ts';
import { supportedPlatforms } from '../placement/pod-info.ts';
import type { SpecImage } from './pod.ts';

export interface ResolvedImage {
  readonly image: SpecImage;
  readonly platforms: ImagePlatforms;
}

export interface OsArch {
  readonly os: string;
  readonly architecture: string;
}

export interface PodPlatforms {
  /** (os, architecture) pairs every container has a variant for; sorted. */
  readonly allowed: readonly OsArch[];
  /**
   * Some image exists only as per-architecture tags or declared variants: its
   * reference is not the same on every platform, so the variant can only be written
   * once the platform is chosen.
   */
  readonly perArchTag: boolean;
  /** One line per container: what it exists for. */
  readonly reasons: readonly string[];
}

const key = (p: OsArch): string => `${p.os}/${p.architecture}`;

export { needsVariantWrite };

export function podPlatforms(images: readonly ResolvedImage[]): PodPlatforms {
  const reasons = images.map((r) => {
    const mine = [...new Set(r.platforms.platforms.map((pi) => key(pi.platform)))].sort();
    return `${r.image.container}: ${r.image.image} exists for ${mine.join(', ') || 'no platform'}`;
  });
  // The placement core's intersection (S2), reduced to the (os, architecture) pairs node affinity can name.
  const allowed = new Map<string, OsArch>();
  for (const p of supportedPlatforms(images.map((r) => r.platforms))) allowed.set(key(p), { os: p.os, architecture: p.architecture });
  const list = [...allowed.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { allowed: list, perArchTag: images.some((r) => needsVariantWrite(r.platforms)), reasons };
}

/**
 * The node affinity target: one os and its architectures. Node affinity ANDs its
 * expressions, so `os In [..] AND arch In [..]` would also admit os/arch pairs no image
 * has; with several oses (rare: Windows and Linux in one index) Linux is kept.
 */
export function affinityTarget(allowed: readonly OsArch[]): { os: string; architectures: string[] } | undefined {
  if (allowed.length === 0) return undefined;
  const oses = [...new Set(allowed.map((p) => p.os))].sort();
  const os = oses.includes('linux') ? 'linux' : (oses[0] ?? 'linux');
  return { os, architectures: allowed.filter((p) => p.os === os).map((p) => p.architecture) };
}
