/**
 * The gate controller's platform choice for per-architecture-tag images, made by the
 * placement core (S2): the pod as it is (its affinity, tolerations, requests, ports)
 * through the full filter and score framework over the cluster's nodes; the chosen
 * node's platform is the answer. Occupancy of the nodes is not known here (the
 * controller sees nodes, not every pod), so resource fit is judged on allocatable; the
 * scheduler that binds the pod later judges the real room.
 */
import type { ArchPreference } from '../core/admission/affinity.ts';
import type { ResolvedImage } from '../core/admission/platforms.ts';
import type { PodLike } from '../core/admission/pod.ts';
import { formatReference, parseReference } from '../core/image/reference.ts';
import type { Node, Pod } from '../core/k8s/types.ts';
import { createFramework } from '../core/placement/framework.ts';
import type { ImageInfo } from '../core/placement/pod-info.ts';
import { createRng } from '../core/rng.ts';
import { schedulePod } from '../core/placement/schedule.ts';
import { ClusterSnapshot } from '../core/placement/snapshot.ts';
import { parsePlatform, type NodePlatformSource, type Platform } from '../core/platform/platform.ts';

/** A Node as kube-scheduler sends it to the extender or the API lists it: structural, only what is read. */
export interface NodeLike extends NodePlatformSource {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> | null } | null;
  readonly spec?: { readonly unschedulable?: boolean | null } | null;
  readonly status?: {
    readonly nodeInfo?: { readonly architecture?: string; readonly operatingSystem?: string } | null;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[] | null;
  } | null;
}

export type PlatformChoice =
  | { readonly ok: true; readonly platform: Platform; readonly reason: string }
  | { readonly ok: false; readonly reason: string };

export function placementChoice(images: readonly ResolvedImage[], nodes: readonly NodeLike[], preferences: readonly ArchPreference[], pod: PodLike): PlatformChoice {
  const weights: Record<string, number> = {};
  for (const p of preferences) weights[`linux/${p.architecture}`] = p.weight;
  const fw = createFramework(preferences.length ? { architecturePreference: weights } : {});
  if (!fw.ok) return { ok: false, reason: fw.error };
  const byRef = new Map<string, ImageInfo>();
  for (const r of images) {
    const parsed = parseReference(r.image.image);
    if (parsed.ok) byRef.set(formatReference(parsed.value), { ok: true, value: r.platforms });
  }
  // Gates only hold scheduling back; the decision is for the pod once they are lifted.
  const candidate = { ...(pod as Pod), spec: { ...(pod as Pod).spec, schedulingGates: [] } } as Pod;
  const { decision } = schedulePod(fw.value, ClusterSnapshot.fromNodes(nodes as readonly Node[]), candidate, (ref) => byRef.get(ref), createRng(1));
  if (decision.outcome !== 'scheduled' || !decision.platform || !decision.node) return { ok: false, reason: decision.reason };
  const platform = parsePlatform(decision.platform);
  if (!platform.ok) return { ok: false, reason: platform.error };
  return { ok: true, platform: platform.value, reason: `${decision.platform} (placement: node ${decision.node} best: ${decision.reason})` };
}
