/**
 * The parts of a core/v1 Pod and Node that admission and the extender read and write.
 * Structural, so the full Kubernetes types (and the placement core's) fit them.
 */

export interface RequirementLike {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | null;
}

export interface SelectorTermLike {
  readonly matchExpressions?: readonly RequirementLike[] | null;
  readonly matchFields?: readonly RequirementLike[] | null;
}

export interface PreferredTermLike {
  readonly weight: number;
  readonly preference: SelectorTermLike;
}

export interface NodeAffinityLike {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly nodeSelectorTerms: readonly SelectorTermLike[] } | null;
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly PreferredTermLike[] | null;
}

export interface ContainerLike {
  readonly name: string;
  readonly image?: string;
}

/** Structural: core/k8s Pod, a parsed AdmissionReview object and a client-node V1Pod all fit. */
export interface PodLike {
  readonly metadata?: {
    readonly name?: string;
    readonly generateName?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly creationTimestamp?: string | Date | null;
    readonly labels?: Readonly<Record<string, string>> | null;
    readonly annotations?: Readonly<Record<string, string>> | null;
  } | null;
  readonly spec?: {
    readonly containers?: readonly ContainerLike[] | null;
    readonly initContainers?: readonly ContainerLike[] | null;
    readonly nodeSelector?: Readonly<Record<string, string>> | null;
    readonly nodeName?: string;
    readonly affinity?: { readonly nodeAffinity?: NodeAffinityLike | null } | null;
    readonly schedulingGates?: readonly { readonly name: string }[] | null;
    /** Where the pod's registry credentials come from (the image lookup reads them). */
    readonly imagePullSecrets?: readonly { readonly name?: string }[] | null;
    readonly serviceAccountName?: string;
  } | null;
}

export type ContainerKind = 'containers' | 'initContainers';

/** One container image of a pod, with where it sits in the spec (for patches). */
export interface SpecImage {
  readonly kind: ContainerKind;
  readonly index: number;
  readonly container: string;
  readonly image: string;
}

/** Every container and init container image, in spec order (ephemeral containers are added later and never scheduled). */
export function podImages(pod: PodLike): SpecImage[] {
  const out: SpecImage[] = [];
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
