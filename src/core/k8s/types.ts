/**
 * The Kubernetes objects polyarch reads, as structural types with the API's field names
 * (k8s.io/api/core/v1, apps/v1, batch/v1, scheduling/v1, policy/v1). Only the fields
 * polyarch uses are listed; everything is optional as in the API, so objects from
 * @kubernetes/client-node, from a manifest file or from the simulator all fit.
 * core/ cannot import the client library, hence these types.
 */

export type Labels = Readonly<Record<string, string>>;
/** Resource name -> quantity string (`500m`, `128Mi`); numbers appear in hand-written YAML. */
export type ResourceList = Readonly<Record<string, string | number>>;

export interface OwnerReference {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly controller?: boolean;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Labels | null;
  readonly annotations?: Labels | null;
  /** RFC 3339, as the API server writes it. */
  readonly creationTimestamp?: string | null;
  readonly deletionTimestamp?: string | null;
  readonly ownerReferences?: readonly OwnerReference[] | null;
  readonly resourceVersion?: string;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  readonly values?: readonly string[] | null;
}

export interface LabelSelector {
  readonly matchLabels?: Labels | null;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | null;
}

// ---- Node -------------------------------------------------------------------

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect | string;
  readonly timeAdded?: string | null;
}

export interface NodeCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown' | string;
  readonly reason?: string;
  readonly message?: string;
}

export interface ContainerImage {
  readonly names?: readonly string[] | null;
  readonly sizeBytes?: number;
}

export interface NodeSystemInfo {
  readonly architecture?: string;
  readonly operatingSystem?: string;
  readonly kernelVersion?: string;
  readonly osImage?: string;
  readonly containerRuntimeVersion?: string;
  readonly kubeletVersion?: string;
}

export interface NodeSpec {
  readonly unschedulable?: boolean;
  readonly taints?: readonly Taint[] | null;
  readonly providerID?: string;
  readonly podCIDR?: string;
}

export interface NodeStatus {
  readonly capacity?: ResourceList | null;
  readonly allocatable?: ResourceList | null;
  readonly conditions?: readonly NodeCondition[] | null;
  readonly images?: readonly ContainerImage[] | null;
  readonly nodeInfo?: NodeSystemInfo | null;
}

export interface Node {
  readonly apiVersion?: string;
  readonly kind?: 'Node' | string;
  readonly metadata: ObjectMeta;
  readonly spec?: NodeSpec | null;
  readonly status?: NodeStatus | null;
}

// ---- Pod --------------------------------------------------------------------

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Equal' | 'Exists' | string;
  readonly value?: string;
  readonly effect?: TaintEffect | string;
  readonly tolerationSeconds?: number | null;
}

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt' | string;
  readonly values?: readonly string[] | null;
}

export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly NodeSelectorRequirement[] | null;
  readonly matchFields?: readonly NodeSelectorRequirement[] | null;
}

export interface NodeSelector {
  readonly nodeSelectorTerms: readonly NodeSelectorTerm[];
}

export interface PreferredSchedulingTerm {
  readonly weight: number;
  readonly preference: NodeSelectorTerm;
}

export interface NodeAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector | null;
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly PreferredSchedulingTerm[] | null;
}

export interface PodAffinityTerm {
  readonly labelSelector?: LabelSelector | null;
  readonly namespaces?: readonly string[] | null;
  readonly topologyKey: string;
}

export interface WeightedPodAffinityTerm {
  readonly weight: number;
  readonly podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: readonly PodAffinityTerm[] | null;
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly WeightedPodAffinityTerm[] | null;
}

export interface Affinity {
  readonly nodeAffinity?: NodeAffinity | null;
  /** Read and carried, not evaluated by polyarch's placement (see docs/placement.md). */
  readonly podAffinity?: PodAffinity | null;
  readonly podAntiAffinity?: PodAffinity | null;
}

export interface ResourceRequirements {
  readonly requests?: ResourceList | null;
  readonly limits?: ResourceList | null;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly hostIP?: string;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP' | string;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly imagePullPolicy?: string;
  readonly command?: readonly string[] | null;
  readonly args?: readonly string[] | null;
  readonly env?: readonly EnvVar[] | null;
  readonly ports?: readonly ContainerPort[] | null;
  readonly resources?: ResourceRequirements | null;
  /** `Always` on an init container makes it a sidecar (restartable init container). */
  readonly restartPolicy?: 'Always' | string | null;
  readonly terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError' | string | null;
}

export interface LocalObjectReference {
  readonly name?: string;
}

export interface PodSpec {
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[] | null;
  readonly nodeName?: string;
  readonly nodeSelector?: Labels | null;
  readonly affinity?: Affinity | null;
  readonly tolerations?: readonly Toleration[] | null;
  readonly schedulerName?: string;
  readonly priorityClassName?: string;
  readonly priority?: number | null;
  readonly preemptionPolicy?: string | null;
  readonly overhead?: ResourceList | null;
  /** Pod-level resources (Kubernetes 1.32+): when set they bound cpu and memory for the pod. */
  readonly resources?: ResourceRequirements | null;
  readonly hostNetwork?: boolean;
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never' | string;
  readonly imagePullSecrets?: readonly LocalObjectReference[] | null;
  readonly serviceAccountName?: string;
  /** A StatefulSet pod's stable host name (its own name) and its governing service. */
  readonly hostname?: string;
  readonly subdomain?: string;
}

export interface PodCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface ContainerStateWaiting { readonly reason?: string; readonly message?: string }
export interface ContainerStateRunning { readonly startedAt?: string }
export interface ContainerStateTerminated {
  readonly exitCode: number;
  readonly reason?: string;
  readonly message?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly containerID?: string;
}
export interface ContainerState {
  readonly waiting?: ContainerStateWaiting | null;
  readonly running?: ContainerStateRunning | null;
  readonly terminated?: ContainerStateTerminated | null;
}

export interface ContainerStatus {
  readonly name: string;
  readonly image?: string;
  readonly imageID?: string;
  readonly containerID?: string;
  readonly ready?: boolean;
  readonly started?: boolean;
  readonly restartCount?: number;
  readonly state?: ContainerState | null;
  readonly lastState?: ContainerState | null;
}

export interface PodStatus {
  readonly phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown' | string;
  readonly conditions?: readonly PodCondition[] | null;
  readonly nominatedNodeName?: string;
  readonly containerStatuses?: readonly ContainerStatus[] | null;
  /** Why the pod is in this phase, e.g. `Evicted` by the kubelet. */
  readonly reason?: string;
  readonly message?: string;
}

export interface Pod {
  readonly apiVersion?: string;
  readonly kind?: 'Pod' | string;
  readonly metadata: ObjectMeta;
  readonly spec: PodSpec;
  readonly status?: PodStatus | null;
}

export interface PodTemplateSpec {
  readonly metadata?: ObjectMeta | null;
  readonly spec: PodSpec;
}

// ---- Workloads ----------------------------------------------------------------

export interface Deployment {
  readonly apiVersion?: string;
  readonly kind?: 'Deployment' | string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas?: number | null;
    readonly selector?: LabelSelector | null;
    readonly template: PodTemplateSpec;
    readonly paused?: boolean;
  };
}

export interface ReplicaSet {
  readonly apiVersion?: string;
  readonly kind?: 'ReplicaSet' | string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas?: number | null;
    readonly selector?: LabelSelector | null;
    readonly template: PodTemplateSpec;
  };
}

export interface StatefulSet {
  readonly apiVersion?: string;
  readonly kind?: 'StatefulSet' | string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas?: number | null;
    readonly serviceName?: string;
    readonly selector?: LabelSelector | null;
    readonly template: PodTemplateSpec;
    readonly podManagementPolicy?: 'OrderedReady' | 'Parallel' | string;
    readonly ordinals?: { readonly start?: number } | null;
  };
}

export interface DaemonSet {
  readonly apiVersion?: string;
  readonly kind?: 'DaemonSet' | string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly selector?: LabelSelector | null;
    readonly template: PodTemplateSpec;
  };
}

export interface Job {
  readonly apiVersion?: string;
  readonly kind?: 'Job' | string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly parallelism?: number | null;
    readonly completions?: number | null;
    readonly completionMode?: 'NonIndexed' | 'Indexed' | string;
    readonly suspend?: boolean;
    readonly template: PodTemplateSpec;
  };
}

export interface PriorityClass {
  readonly apiVersion?: string;
  readonly kind?: 'PriorityClass' | string;
  readonly metadata: ObjectMeta;
  readonly value: number;
  readonly globalDefault?: boolean;
  readonly preemptionPolicy?: string;
  readonly description?: string;
}

export interface PodDisruptionBudget {
  readonly apiVersion?: string;
  readonly kind?: 'PodDisruptionBudget' | string;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly minAvailable?: number | string | null;
    readonly maxUnavailable?: number | string | null;
    readonly selector?: LabelSelector | null;
    readonly unhealthyPodEvictionPolicy?: string | null;
  };
  readonly status?: {
    readonly currentHealthy?: number;
    readonly desiredHealthy?: number;
    readonly disruptionsAllowed?: number;
    readonly expectedPods?: number;
  } | null;
}

/** Well-known names (k8s.io/api/core/v1 well_known_taints.go, well_known_labels.go). */
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';

/** `namespace/name`, the key a pod is known by in decisions and the cache. */
export function podKey(pod: { readonly metadata: ObjectMeta }): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}
