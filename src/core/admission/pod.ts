/**
 * The parts of a core/v1 Pod and Node that admission and the extender read and write.
 * Structural, so the full Kubernetes types (and the placement core's) fit them.
 */

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface PreferredSchedulingTerm {
  weight: number;
  preference: NodeSelectorTerm;
}

export interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] } | null;
  preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[] | null;
}

export interface ContainerLike {
  name: string;
  image?: string;
}

export interface PodLike {
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string> | null;
    annotations?: Record<string, string> | null;
  } | null;
  spec?: {
    containers?: ContainerLike[] | null;
    initContainers?: ContainerLike[] | null;
    nodeSelector?: Record<string, string> | null;
    nodeName?: string;
    affinity?: { nodeAffinity?: NodeAffinity | null; [other: string]: unknown } | null;
    schedulingGates?: { name: string }[] | null;
    [other: string]: unknown;
  } | null;
}

export type ContainerKind = 'containers' | 'initContainers';

/** One container image of a pod, with where it sits in the spec (for patches). */
export interface PodImage {
  readonly kind: ContainerKind;
  readonly index: number;
  readonly container: string;
  readonly image: string;
}

/** Every container and init container image, in spec order (ephemeral containers are added later and never scheduled). */
export function podImages(pod: PodLike): PodImage[] {
  const out: PodImage[] = [];
  for (const kind of ['initContainers', 'containers'] as const) {
    (pod.spec?.[kind] ?? []).forEach((c, index) => {
      out.push({ kind, index, container: c.name, image: c.image ?? '' });
    });
  }
  return out;
}

export function podName(pod: PodLike): string {
  const m = pod.metadata;
  const name = m?.name || (m?.generateName ? `${m.generateName}*` : '<unnamed>');
  return m?.namespace ? `${m.namespace}/${name}` : name;
}
