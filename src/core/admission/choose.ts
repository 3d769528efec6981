/**
 * The extender's filter and score, and the gate controller's platform choice for
 * per-architecture-tag images. Scores are 0-100 inside (kube-scheduler's MaxNodeScore)
 * and scaled to 0-10 only at the extender boundary.
 */
import { formatPlatform, type NodePlatformSource, type Platform } from '../platform/platform.ts';
import type { ArchPreference } from './affinity.ts';
import { nodeFit, type NodeFit, type ResolvedImage } from './platforms.ts';

export interface NodeLike extends NodePlatformSource {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> | null } | null;
  readonly spec?: { readonly unschedulable?: boolean | null } | null;
  readonly status?: {
    readonly nodeInfo?: { readonly architecture?: string; readonly operatingSystem?: string } | null;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[] | null;
  } | null;
}

export const MAX_NODE_SCORE = 100;
/** k8s.io/kube-scheduler/extender/v1 MaxExtenderPriority. */
export const MAX_EXTENDER_PRIORITY = 10;

export interface FilterOutcome {
  readonly passed: readonly string[];
  /** Nodes refused for another reason than their platform (no platform labels, unknown node). */
  readonly failed: Readonly<Record<string, string>>;
  /** Nodes whose platform can never run the pod: preemption cannot help there. */
  readonly unresolvable: Readonly<Record<string, string>>;
}

export function filterNodes(images: readonly ResolvedImage[], nodes: readonly NodeLike[]): FilterOutcome {
  const passed: string[] = [];
  const failed: Record<string, string> = {};
  const unresolvable: Record<string, string> = {};
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const fit = nodeFit(images, node);
    if (fit.ok) passed.push(name);
    else if (fit.platformRefusal) unresolvable[name] = fit.reason;
    else failed[name] = fit.reason;
  }
  return { passed, failed, unresolvable };
}

function preferenceWeight(architecture: string, preferences: readonly ArchPreference[]): number {
  return Math.max(0, ...preferences.filter((p) => p.architecture === architecture).map((p) => p.weight));
}

/**
 * 0-100: how well the node suits the pod's images. Every container with a variant built
 * exactly for the node's level scores full marks, a lower compatible level half; the
 * architecture preference (weight 0-100) counts as much again when there is a policy.
 */
export function scoreFit(fit: NodeFit, preferences: readonly ArchPreference[]): number {
  if (!fit.ok) return 0;
  const variant = fit.variants.length === 0 ? MAX_NODE_SCORE : fit.variants.reduce((s, v) => s + (v.exact ? 100 : 50), 0) / fit.variants.length;
  if (preferences.length === 0) return Math.round(variant);
  return Math.round((variant + preferenceWeight(fit.platform.architecture, preferences)) / 2);
}

export function toExtenderPriority(score: number): number {
  return Math.max(0, Math.min(MAX_EXTENDER_PRIORITY, Math.round((score * MAX_EXTENDER_PRIORITY) / MAX_NODE_SCORE)));
}

function ready(node: NodeLike): boolean {
  if (node.spec?.unschedulable) return false;
  const c = (node.status?.conditions ?? []).find((x) => x.type === 'Ready');
  return c === undefined || c.status === 'True';
}

export type PlatformChoice =
  | { readonly ok: true; readonly platform: Platform; readonly reason: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Picks the platform for a pod whose images differ per platform, before any node is
 * chosen: among the platforms of ready, schedulable nodes that can run every
 * container, the most preferred architecture, then the one with the most such nodes
 * (where the scheduler has the most room), then by name for determinism.
 */
export function choosePlatform(images: readonly ResolvedImage[], nodes: readonly NodeLike[], preferences: readonly ArchPreference[]): PlatformChoice {
  const groups = new Map<string, { platform: Platform; count: number }>();
  for (const node of nodes) {
    if (!ready(node)) continue;
    const fit = nodeFit(images, node);
    if (!fit.ok) continue;
    const k = formatPlatform(fit.platform);
    const g = groups.get(k) ?? { platform: fit.platform, count: 0 };
    g.count++;
    groups.set(k, g);
  }
  const ranked = [...groups.entries()].sort(([ka, a], [kb, b]) =>
    preferenceWeight(b.platform.architecture, preferences) - preferenceWeight(a.platform.architecture, preferences) || b.count - a.count || (ka < kb ? -1 : 1));
  const first = ranked[0];
  if (!first) return { ok: false, reason: `no ready node can run every container (${nodes.length} nodes)` };
  const [k, g] = first;
  return { ok: true, platform: g.platform, reason: `${k}: ${g.count} ready node(s) can run every container${ranked.length > 1 ? `; also possible ${ranked.slice(1).map(([x]) => x).join(', ')}` : ''}` };
}
