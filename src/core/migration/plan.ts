/**
 * The replacement of a moved bare pod: it starts from the recorded architecture-neutral
 * images (`polyarch.io/source-images`), so S2-S4 may put it on a node of any
 * architecture with the variant built for it. (When and how pods move: decide.ts.)
 */
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import type { Pod } from '../k8s/types.ts';

export const MIGRATED_FROM_ANNOTATION = 'polyarch.io/migrated-from';
/** Taint `polyarch migrate --node` puts on a node it drains (with a cordon). */
export const DRAIN_TAINT = 'polyarch.io/draining';

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
