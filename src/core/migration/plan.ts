/**
 * Which pods must move, and how (the migration half of the placement method): pods on a
 * node that stopped answering are deleted once their NoExecute toleration has run out
 * and re-created elsewhere; pods on a node being drained are evicted through the
 * eviction API, so PodDisruptionBudgets hold. A re-created pod starts from the recorded
 * architecture-neutral images (`polyarch.io/source-images`), so S2-S4 may put it on a
 * node of any architecture with the variant built for it.
 */
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import type { Node, Pod, Taint } from '../k8s/types.ts';
import { TAINT_NODE_UNREACHABLE, TAINT_NODE_NOT_READY } from '../k8s/types.ts';

export const MIGRATED_FROM_ANNOTATION = 'polyarch.io/migrated-from';
/** Taint `polyarch migrate --node` puts on a node it drains (with a cordon). */
export const DRAIN_TAINT = 'polyarch.io/draining';

export type NodeTrouble =
  | { readonly kind: 'lost'; readonly sinceMs: number }
  | { readonly kind: 'draining' };

/** Why a node's pods must move, read from its taints (the API is the store of record). */
export function nodeTrouble(node: Node, nowMs: number): NodeTrouble | undefined {
  const taints: readonly Taint[] = node.spec?.taints ?? [];
  const lost = taints.find((t) => (t.key === TAINT_NODE_UNREACHABLE || t.key === TAINT_NODE_NOT_READY) && t.effect === 'NoExecute');
  if (lost) {
    const added = lost.timeAdded ? Date.parse(lost.timeAdded) : Number.NaN;
    return { kind: 'lost', sinceMs: Number.isFinite(added) ? added : nowMs };
  }
  if (taints.some((t) => t.key === DRAIN_TAINT)) return { kind: 'draining' };
  return undefined;
}

export type MoveAction = 'wait' | 'delete' | 'evict';

export interface Move {
  readonly pod: string;
  readonly node: string;
  readonly action: MoveAction;
  /** Re-create the pod ourselves (no controller will). */
  readonly recreate: boolean;
  readonly reason: string;
}

export interface MigrationOptions {
  /** How long pods stay on an unreachable node before they are moved (tolerationSeconds). */
  readonly evictionTimeoutMs: number;
  /** Re-create pods without a controller owner (polyarch); Kubernetes alone loses them. */
  readonly recreateBarePods: boolean;
}

const hasController = (pod: Pod): boolean => (pod.metadata.ownerReferences ?? []).some((o) => o.controller === true);

/** A pod's own toleration of the unreachable taint, if shorter or longer than the default. */
function tolerationMs(pod: Pod, fallback: number): number {
  for (const t of pod.spec.tolerations ?? []) {
    const matches = (t.key === TAINT_NODE_UNREACHABLE || t.key === undefined || t.key === '') && (t.effect === 'NoExecute' || !t.effect);
    if (matches) return t.tolerationSeconds === undefined || t.tolerationSeconds === null ? Number.POSITIVE_INFINITY : t.tolerationSeconds * 1000;
  }
  return fallback;
}

export function planMoves(node: Node, trouble: NodeTrouble, pods: readonly Pod[], nowMs: number, opts: MigrationOptions): Move[] {
  const name = node.metadata.name ?? '';
  return pods.map((pod) => {
    const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
    const recreate = opts.recreateBarePods && !hasController(pod);
    if (trouble.kind === 'draining') return { pod: key, node: name, action: 'evict', recreate, reason: `node ${name} is being drained` };
    const waited = nowMs - trouble.sinceMs;
    const limit = tolerationMs(pod, opts.evictionTimeoutMs);
    if (waited < limit) return { pod: key, node: name, action: 'wait', recreate, reason: `node ${name} unreachable for ${Math.round(waited / 1000)}s of ${Math.round(limit / 1000)}s tolerated` };
    return { pod: key, node: name, action: 'delete', recreate, reason: `node ${name} unreachable for ${Math.round(waited / 1000)}s` };
  });
}

export type ReplacementResult = { ok: true; value: Pod } | { ok: false; error: string };

/**
 * The pod to create in place of a moved one: the original images from
 * `polyarch.io/source-images` (not the variant chosen for the old node), no node, no
 * status, and a note of where it came from.
 */
export function replacementPod(pod: Pod, fromNode: string): ReplacementResult {
  const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
  const annotations: Record<string, string> = { ...(pod.metadata.annotations ?? {}) };
  let images: Record<string, string> = {};
  const recorded = annotations[SOURCE_IMAGES_ANNOTATION];
  if (recorded !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(recorded);
    } catch {
      return { ok: false, error: `pod ${key}: annotation ${SOURCE_IMAGES_ANNOTATION} is not JSON` };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      return { ok: false, error: `pod ${key}: annotation ${SOURCE_IMAGES_ANNOTATION} must map container names to images` };
    }
    images = parsed as Record<string, string>;
  }
  delete annotations[PLATFORM_ANNOTATION];
  delete annotations[DECISION_ANNOTATION];
  annotations[MIGRATED_FROM_ANNOTATION] = fromNode;
  const restore = <C extends { readonly name: string; readonly image?: string }>(cs: readonly C[]): C[] =>
    cs.map((c) => (images[c.name] === undefined ? c : { ...c, image: images[c.name] }));
  const { nodeName: _dropped, ...spec } = pod.spec;
  return {
    ok: true,
    value: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace ?? 'default',
        labels: pod.metadata.labels ?? {},
        annotations,
        ...(pod.metadata.ownerReferences ? { ownerReferences: pod.metadata.ownerReferences } : {}),
      },
      spec: { ...spec, containers: restore(spec.containers), ...(spec.initContainers ? { initContainers: restore(spec.initContainers) } : {}) },
    },
  };
}
