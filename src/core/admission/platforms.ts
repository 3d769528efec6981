/**
 * Which platforms a pod can run on, from the platforms of its images (S1 -> S2).
 * A node can run the pod when every container (init containers included) has an
 * image variant that runs there.
 */
import type { ImagePlatforms, PlatformImage } from '../image/types.ts';
import { canRun, formatPlatform, nodePlatform, variantFit, type NodePlatformSource, type Platform } from '../platform/platform.ts';
import type { PodImage } from './pod.ts';

export interface ResolvedImage {
  readonly image: PodImage;
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

/** An image needs its reference rewritten per platform unless the registry serves every platform under it (an index) or there is only one. */
export function needsVariantWrite(p: ImagePlatforms): boolean {
  return p.source === 'tag-convention' || p.source === 'catalog';
}

export function podPlatforms(images: readonly ResolvedImage[]): PodPlatforms {
  let allowed: Map<string, OsArch> | undefined;
  const reasons: string[] = [];
  for (const r of images) {
    const mine = new Map<string, OsArch>();
    for (const pi of r.platforms.platforms) mine.set(key(pi.platform), { os: pi.platform.os, architecture: pi.platform.architecture });
    reasons.push(`${r.image.container}: ${r.image.image} exists for ${[...mine.keys()].sort().join(', ') || 'no platform'}`);
    allowed = allowed === undefined ? mine : new Map([...allowed].filter(([k]) => mine.has(k)));
  }
  const list = [...(allowed ?? new Map<string, OsArch>()).values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
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

/** The best variant of one image for a node platform, or undefined when none runs there. */
export function bestVariant(platforms: ImagePlatforms, node: Platform): PlatformImage | undefined {
  let best: PlatformImage | undefined;
  let bestFit = -Infinity;
  for (const pi of platforms.platforms) {
    const fit = variantFit(pi.platform, node);
    if (fit !== undefined && fit > bestFit) {
      best = pi;
      bestFit = fit;
    }
  }
  return best;
}

export type NodeFit =
  | { readonly ok: true; readonly platform: Platform; readonly variants: readonly { readonly image: PodImage; readonly variant: PlatformImage; readonly exact: boolean }[] }
  /** `platform`: the node's platform is known and can never run the pod (preemption cannot help). */
  | { readonly ok: false; readonly platformRefusal: boolean; readonly reason: string };

/** Can this node run every container of the pod, and with which variants? */
export function nodeFit(images: readonly ResolvedImage[], node: NodePlatformSource): NodeFit {
  const np = nodePlatform(node);
  if (!np.ok) return { ok: false, platformRefusal: false, reason: np.error };
  const variants: { image: PodImage; variant: PlatformImage; exact: boolean }[] = [];
  for (const r of images) {
    const v = bestVariant(r.platforms, np.value);
    if (!v) {
      const has = r.platforms.platforms.map((p) => formatPlatform(p.platform)).join(', ') || 'no platform';
      return {
        ok: false,
        platformRefusal: true,
        reason: `node platform ${formatPlatform(np.value)}: container ${r.image.container} image ${r.image.image} has no variant that runs there (has ${has})`,
      };
    }
    variants.push({ image: r.image, variant: v, exact: v.platform.variant === np.value.variant && canRun(v.platform, np.value) });
  }
  return { ok: true, platform: np.value, variants };
}
