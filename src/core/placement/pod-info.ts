/**
 * The per-cycle state: everything about the pod that does not depend on the node,
 * computed once per pod (kube-scheduler's PreFilter/CycleState) instead of once per
 * node: effective requests, tolerations, selectors, host ports, and the platforms its
 * images exist for. Platform verdicts are memoised per distinct node platform, of
 * which a cluster has a handful.
 */

import { canRun, comparePlatforms, formatPlatform, variantFit, type Platform } from '../platform/platform.ts';
import { displayPlatform } from './display.ts';
import { formatReference, parseReference } from '../image/reference.ts';
import type { ImagePlatforms, PlatformImage, PlatformSource } from '../image/types.ts';
import { sourceImages } from '../k8s/annotations.ts';
import { podResources, type Resources } from '../k8s/resources.ts';
import { podKey, type Container, type NodeSelector, type Pod, type PreferredSchedulingTerm, type Toleration } from '../k8s/types.ts';
import type { HostPort, PodAccount } from './node-info.ts';
import { podHostPorts } from './snapshot.ts';
import { Reasons, SUCCESS, unresolvable, type Status } from './status.ts';


/**
 * What the image resolver said about one reference, resolved before the cycle (S1).
 * `unconstrained` (the reason): the platforms could not be read and the pod's
 * unreadableImages verdict (unreadable-images.ts) places it without a constraint from
 * this image: it runs as written on any platform.
 */
export type ImageInfo = { ok: true; value: ImagePlatforms; unconstrained?: string } | { ok: false; error: string };

/** Looks an image up by its normalised reference (registry/repository:tag[@digest]). */
export type ImageLookup = (reference: string) => ImageInfo | undefined;

/** A lookup over a map keyed by normalised reference. */
export const lookupFromMap = (map: ReadonlyMap<string, ImageInfo>): ImageLookup => (ref) => map.get(ref);

export interface PodImage {
  readonly container: string;
  readonly init: boolean;
  /** The architecture-neutral reference: from polyarch.io/source-images when the pod was placed before. */
  readonly original: string;
  /** original, normalised. */
  readonly reference: string;
  /** The container's image as the pod has it now (the original, unless it was written before). */
  readonly current: string;
  readonly platforms: readonly PlatformImage[];
  /** Its platforms could not be read and it is placed without a constraint (ImageInfo.unconstrained): it runs as written anywhere. */
  readonly unconstrained?: boolean;
  /** How the registry serves the reference (S1's answer); undefined without a lookup. */
  readonly source?: PlatformSource;
  /** Entries of the reference not offered in `platforms` (seen not to run), which a runtime still pulls. */
  readonly withheld?: readonly PlatformImage[];
}

export interface PodInfo extends PodAccount {
  readonly pod: Pod;
  readonly priority: number;
  readonly hasRequests: boolean;
  /** The names in requests.scalar (extended resources, hugepages), listed once for the filters. */
  readonly scalarRequests: readonly string[];
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: readonly (readonly [string, string])[];
  readonly requiredAffinity: NodeSelector | undefined;
  readonly preferredAffinity: readonly PreferredSchedulingTerm[];
  readonly nodeName: string | undefined;
  readonly hostPorts: readonly HostPort[];
  readonly images: readonly PodImage[];
  /** Platforms (among those the images exist for) that can run every image. */
  readonly supportedPlatforms: readonly Platform[];
  /** undefined when a node of this platform can run every image, else the first image it cannot run. */
  platformVerdict(node: Platform): PodImage | undefined;
  /** The NodePlatform filter's status for a node platform, memoised by its key (NodeInfo.platformKey). */
  platformStatus(key: string, node: Platform): Status;
  /** Per node platform key: the chosen variant of each image (same order as images). */
  variantsFor(node: Platform): readonly PlatformImage[];
}

export type PrepareResult = { ok: true; value: PodInfo } | { ok: false; error: string; kind: 'invalid' | 'images' };

export function formatPlatforms(platforms: readonly PlatformImage[]): string {
  return platforms.length === 0 ? 'no platforms' : platforms.map((p) => displayPlatform(p.platform)).join(', ');
}

function hasAny(r: Resources): boolean {
  return r.milliCPU > 0 || r.memory > 0 || r.ephemeralStorage > 0 || Object.keys(r.scalar).length > 0;
}

/**
 * Builds the per-cycle state of a pod. Fails with `invalid` for a pod that cannot be
 * read (a quantity that does not parse, a container without image) and with `images`
 * when an image did not resolve or the images share no platform: both are verdicts on
 * the pod, whatever the nodes. Without a lookup (a platform-blind profile) the images
 * are taken as written, with no platforms: only ImageLocality reads them.
 */
export function preparePod(pod: Pod, lookup: ImageLookup | undefined, priority = pod.spec.priority ?? 0): PrepareResult {
  const res = podResources(pod);
  if (!res.ok) return { ok: false, kind: 'invalid', error: res.error };
  const recorded = sourceImages(pod);
  const images: PodImage[] = [];
  const all: [Container, boolean, string][] = [
    ...(pod.spec.initContainers ?? []).map((c, i): [Container, boolean, string] => [c, true, `spec.initContainers[${i}]`]),
    ...pod.spec.containers.map((c, i): [Container, boolean, string] => [c, false, `spec.containers[${i}]`]),
  ];
  const unresolved: string[] = [];
  for (const [c, init, where] of all) {
    const original = recorded[c.name] ?? c.image;
    if (!original) return { ok: false, kind: 'invalid', error: `${where}.image: missing` };
    const ref = parseReference(original);
    if (!ref.ok) return { ok: false, kind: 'invalid', error: `${where}.image: ${ref.error}` };
    const reference = formatReference(ref.value);
    if (!lookup) {
      images.push({ container: c.name, init, original, reference, current: c.image ?? original, platforms: [] });
      continue;
    }
    const info = lookup(reference);
    if (!info) {
      unresolved.push(`image ${original} was not resolved`);
      continue;
    }
    if (!info.ok) {
      unresolved.push(info.error);
      continue;
    }
    images.push({
      container: c.name, init, original, reference, current: c.image ?? original, platforms: info.value.platforms, source: info.value.source,
      ...(info.value.withheld ? { withheld: info.value.withheld } : {}),
      ...(info.unconstrained !== undefined ? { unconstrained: true } : {}),
    });
  }
  if (unresolved.length > 0) return { ok: false, kind: 'images', error: unresolved.join('; ') };

  const constrained = images.filter((img) => !img.unconstrained);
  const supported = lookup ? supportedPlatforms(constrained) : [];
  if (lookup && constrained.length > 0 && supported.length === 0) {
    const distinct = new Map<string, string>();
    for (const img of constrained) distinct.set(img.original, `${img.original} (${formatPlatforms(img.platforms)})`);
    return { ok: false, kind: 'images', error: `the pod's images share no platform: ${[...distinct.values()].join(', ')}` };
  }

  const verdicts = new Map<string, PodImage | undefined>();
  const statuses = new Map<string, Status>();
  const variants = new Map<string, readonly PlatformImage[]>();
  const keyOf = (p: Platform): string => `${p.os}/${p.architecture}/${p.variant}`;
  const affinity = pod.spec.affinity?.nodeAffinity;
  const platformVerdict = (node: Platform): PodImage | undefined => {
    const k = keyOf(node);
    if (verdicts.has(k)) return verdicts.get(k);
    const bad = constrained.find((img) => !img.platforms.some((p) => canRun(p.platform, node)));
    verdicts.set(k, bad);
    return bad;
  };
  const info: PodInfo = {
    key: podKey(pod),
    pod,
    priority,
    requests: res.value.requests,
    nonZeroMilliCPU: res.value.nonZeroMilliCPU,
    nonZeroMemory: res.value.nonZeroMemory,
    hasRequests: hasAny(res.value.requests),
    scalarRequests: Object.keys(res.value.requests.scalar),
    tolerations: pod.spec.tolerations ?? [],
    nodeSelector: Object.entries(pod.spec.nodeSelector ?? {}),
    requiredAffinity: affinity?.requiredDuringSchedulingIgnoredDuringExecution ?? undefined,
    preferredAffinity: affinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [],
    nodeName: pod.spec.nodeName || undefined,
    hostPorts: podHostPorts(pod),
    images,
    supportedPlatforms: supported,
    platformVerdict,
    platformStatus(key, node) {
      let st = statuses.get(key);
      if (st === undefined) {
        const bad = platformVerdict(node);
        st = bad === undefined ? SUCCESS : Object.freeze(unresolvable('NodePlatform', Reasons.platform(bad.original, formatPlatforms(bad.platforms))));
        statuses.set(key, st);
      }
      return st;
    },
    variantsFor(node) {
      const k = keyOf(node);
      let v = variants.get(k);
      if (!v) {
        // An unconstrained image runs as written: its "variant" is itself.
        v = images.map((img) => (img.unconstrained ? { platform: node, digest: '', image: img.original } : bestVariant(img.platforms, node))).filter((x): x is PlatformImage => x !== undefined);
        variants.set(k, v);
      }
      return v;
    },
  };
  return { ok: true, value: info };
}

/**
 * The intersection over all images of the platforms they exist for, variant-aware:
 * a platform P is supported when every image has a variant that runs on P (an arm/v6
 * image counts for an arm/v7 pod platform).
 */
export function supportedPlatforms(images: readonly { readonly platforms: readonly PlatformImage[] }[]): Platform[] {
  const candidates = new Map<string, Platform>();
  for (const img of images) for (const p of img.platforms) candidates.set(formatPlatform(p.platform), p.platform);
  return [...candidates.values()]
    .filter((cand) => images.every((img) => img.platforms.some((p) => canRun(p.platform, cand))))
    .sort(comparePlatforms);
}

/** S3: the variant of an image to run on a node: the exact variant first, else the highest compatible lower one. */
export function bestVariant(platforms: readonly PlatformImage[], node: Platform): PlatformImage | undefined {
  let best: PlatformImage | undefined;
  let bestFit = -1;
  for (const p of platforms) {
    const fit = variantFit(p.platform, node);
    if (fit !== undefined && fit > bestFit) {
      best = p;
      bestFit = fit;
    }
  }
  return best;
}

/** The ImageInfo of an image placed without a constraint (its platforms could not be read; unreadable-images.ts). */
export function unconstrainedImage(reference: string, reason: string): ImageInfo {
  return { ok: true, value: { reference, source: 'manifest', platforms: [], warnings: [reason] }, unconstrained: reason };
}
