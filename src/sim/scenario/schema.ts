/**
 * The scenario file: standard Kubernetes objects (as `kubectl get -o yaml` writes them;
 * fields polyarch does not read are kept and ignored) plus one polyarch document,
 * `apiVersion: polyarch.io/v1alpha1, kind: Scenario`. Schemas only; load.ts reads the
 * YAML and names the document and field of every error.
 */
import { CLUSTER_PLACEMENT_POLICY_NAME, placementPolicySpecSchema } from '../../core/placement/namespace-policy.ts';
import { z } from 'zod';
import { MAX_PODS } from '../../core/k8s/limits.ts';
import { scalingPolicySpecSchema } from '../../core/autoscale/policy.ts';
import { labelSelector, podSpec, podTemplate, quantity, resourceList, stringMap, taint } from '../../core/k8s/schema.ts';

const replicas = z.number().int().min(0).max(MAX_PODS, `at most ${MAX_PODS} (Kubernetes' tested maximum of pods per cluster)`);

const labels = stringMap;
const name = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'not a DNS-1123 name');

const metadata = z.looseObject({
  name,
  namespace: name.optional(),
  labels: labels.optional(),
  annotations: labels.optional(),
});

export const nodeDoc = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Node'),
  metadata,
  spec: z.looseObject({ unschedulable: z.boolean().optional(), taints: z.array(taint).optional() }).optional(),
  status: z.looseObject({
    capacity: resourceList.optional(),
    allocatable: resourceList.optional(),
    nodeInfo: z.looseObject({ architecture: z.string().optional(), operatingSystem: z.string().optional() }).optional(),
  }).optional(),
});

export const podDoc = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Pod'),
  metadata,
  // The pod spec and template are the one schema of core/k8s/schema.ts, shared with manifests.
  spec: podSpec,
});

const workloadSpec = z.looseObject({
  replicas: replicas.default(1),
  selector: labelSelector,
  template: podTemplate,
});

export const deploymentDoc = z.looseObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata,
  spec: workloadSpec,
});

export const statefulSetDoc = z.looseObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('StatefulSet'),
  metadata,
  spec: workloadSpec.extend({ serviceName: z.string().optional() }),
});

export const priorityClassDoc = z.looseObject({
  apiVersion: z.literal('scheduling.k8s.io/v1'),
  kind: z.literal('PriorityClass'),
  metadata,
  value: z.number().int(),
  globalDefault: z.boolean().optional(),
  description: z.string().optional(),
});

const intOrPercent = z.union([z.number().int().min(0), z.string().regex(/^[0-9]+%$/, 'an integer or a percentage such as "50%"')]);
export const pdbDoc = z.looseObject({
  apiVersion: z.literal('policy/v1'),
  kind: z.literal('PodDisruptionBudget'),
  metadata,
  spec: z.looseObject({
    minAvailable: intOrPercent.optional(),
    maxUnavailable: intOrPercent.optional(),
    selector: labelSelector,
  }).refine((s) => (s.minAvailable === undefined) !== (s.maxUnavailable === undefined), {
    message: 'set exactly one of minAvailable and maxUnavailable',
  }),
});

/** `90s`, `30m`, `12h`, `2d`, or a number of minutes. Whole minutes (the simulator's step). */
export const duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^[0-9]+(s|m|h|d)$/, 'a duration such as 90s, 30m, 12h or 2d'),
]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const n = Number(v.slice(0, -1));
  const unitMinutes = { s: 1 / 60, m: 1, h: 60, d: 1440 }[v.slice(-1) as 's' | 'm' | 'h' | 'd'];
  const minutes = n * unitMinutes;
  if (!Number.isInteger(minutes)) {
    ctx.addIssue({ code: 'custom', message: `${v} is not a whole number of minutes` });
    return z.NEVER;
  }
  return minutes;
});

const platformText = z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/v[0-9.]+)?$/, 'a platform such as linux/arm64 or linux/arm/v7');

/** The path runc names in `exec /app: exec format error` (default /app). */
const entrypoint = z.string().regex(/^\//, 'an absolute path such as /app').optional();

export const catalogImage = z.union([
  z.strictObject({
    reference: z.string().min(1),
    /** An OCI image index (multi-arch) when several, a single-platform image when one. */
    platforms: z.array(platformText).min(1),
    /**
     * Entries that lie: platform the entry declares -> platform its binary was built for
     * (`{linux/arm64: linux/amd64}`: pulled on arm64, it dies with exec format error).
     */
    binaries: z.record(platformText, platformText).optional(),
    entrypoint,
  }).refine((i) => Object.keys(i.binaries ?? {}).every((k) => i.platforms.includes(k)), { message: 'every key must be one of the image\'s platforms', path: ['binaries'] }),
  z.strictObject({
    reference: z.string().min(1),
    /** One image per platform under its own tag or repository (`app:1.4-arm64`). */
    tags: z.record(platformText, z.string().min(1)).refine((t) => Object.keys(t).length > 0, 'at least one platform'),
    entrypoint,
  }),
]);
export const catalogFile = z.strictObject({ images: z.array(catalogImage) });

const peak = z.strictObject({ cpu: quantity, memory: quantity });

const traceSource = z.strictObject({
  file: z.string().min(1),
  series: z.string().min(1),
  /** Where in the series the run starts (wraps around at the end). */
  offset: duration.optional(),
});

const pattern = z.strictObject({
  kind: z.enum(['constant', 'diurnal', 'spike', 'ramp']),
  /** Utilisation (of peak) at rest, in [0, 1]. */
  base: z.number().min(0).max(1),
  /** Added at the top of a cycle, a spike or the end of a ramp. */
  amplitude: z.number().min(0).max(1).default(0),
  period: duration.optional(),
  noise: z.number().min(0).max(1).default(0),
});

export const usageEntry = z.strictObject({
  /** `namespace/name` (namespace defaults to `default`) of a Deployment, StatefulSet or Pod. */
  workload: z.string().min(1),
  /** Usage at utilisation 1 of the series: a trace is scaled so that its maximum is this. */
  peak,
  trace: traceSource.optional(),
  pattern: pattern.optional(),
}).refine((u) => (u.trace === undefined) !== (u.pattern === undefined), { message: 'give exactly one of trace and pattern' });

const at = duration;
export const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({ at, type: z.literal('node-failure'), node: z.string().min(1) }),
  z.strictObject({ at, type: z.literal('drain'), node: z.string().min(1) }),
  z.strictObject({ at, type: z.literal('recovery'), node: z.string().min(1) }),
  // The operator confirms a failed node is off (Kubernetes' non-graceful shutdown taint).
  z.strictObject({ at, type: z.literal('fence'), node: z.string().min(1) }),
  z.strictObject({ at, type: z.literal('deploy'), workload: z.string().min(1) }),
  z.strictObject({ at, type: z.literal('scale'), workload: z.string().min(1), replicas }),
]);

/** A duration in whole minutes within [min, max] (a day at most: the policy's steps, not the run's length). */
const minutes = (min: number, max = 1440) => duration.refine((m) => m >= min && m <= max, `between ${min} and ${max} minutes`);

export const policySchema = z.strictObject({
  /** How often the autoscaler plans; 0 would never run it. */
  interval: minutes(1).default(5),
  /** Minutes of history the forecast reads (the method's window, 60); the double moving average needs two. */
  window: minutes(2).default(60),
  /** How far ahead the forecast looks (T). */
  horizon: minutes(1).default(5),
  /** The floor of the margin above the forecast, a share of it. */
  headroom: z.number().min(0).max(2).default(0.05),
  /** The margin is this quantile of the forecast's own recent errors (0: the floor alone). */
  errorQuantile: z.number().min(0).max(1).default(0.95),
  /** The disruption budget: pods the autoscaler may change per round (absent: no limit). */
  maxPodChanges: z.number().int().min(0).optional(),
  /** How long pods stay on a failed node before they are moved (Kubernetes' 300 s default). */
  evictionTimeout: minutes(0).default(5),
  /** Minutes a pod takes from bound to running (image pull and start). */
  startup: minutes(0).default(1),
  /** The CPU request at which start-up takes `startup` minutes; a smaller request starts slower (absent: a fixed `startup`). */
  startupCpu: quantity.optional(),
}).default({ interval: 5, window: 60, horizon: 5, headroom: 0.05, errorQuantile: 0.95, evictionTimeout: 5, startup: 1 });

export const scenarioDoc = z.looseObject({
  apiVersion: z.literal('polyarch.io/v1alpha1'),
  kind: z.literal('Scenario'),
  metadata: z.looseObject({ name }),
  spec: z.strictObject({
    duration: duration.refine((m) => m >= 1 && m <= 31 * 1440, 'between 1 minute and 31 days'),
    /** Simulated wall-clock start (ISO 8601); fixed so reports are reproducible. */
    start: z.iso.datetime().default('2026-01-05T00:00:00Z'),
    seed: z.number().int().nonnegative().optional(),
    images: z.array(catalogImage).default([]),
    /** A YAML or JSON file `{images: [...]}`, relative to the scenario. */
    catalogFile: z.string().min(1).optional(),
    usage: z.array(usageEntry).default([]),
    events: z.array(eventSchema).max(100_000, 'at most 100000 events').default([]),
    policy: policySchema,
    /** Control-plane nodes per cluster, for the one-cluster-per-architecture baseline. */
    controlPlaneNodesPerCluster: z.number().int().min(1).default(3),
  }),
});

export type NodeDoc = z.infer<typeof nodeDoc>;
export type PodDoc = z.infer<typeof podDoc>;
export type DeploymentDoc = z.infer<typeof deploymentDoc>;
export type StatefulSetDoc = z.infer<typeof statefulSetDoc>;
export type PriorityClassDoc = z.infer<typeof priorityClassDoc>;
export type PdbDoc = z.infer<typeof pdbDoc>;
export type ScalingPolicyDoc = z.infer<typeof scalingPolicyDoc>;
export type ScenarioDoc = z.infer<typeof scenarioDoc>;
export type CatalogImage = z.infer<typeof catalogImage>;
export type UsageEntry = z.infer<typeof usageEntry>;
export type ScenarioEvent = z.infer<typeof eventSchema>;
export type Policy = z.infer<typeof policySchema>;

/** A polyarch.io/v1alpha1 object of a scenario: its kind, metadata and validated spec. */
const polyarchDoc = <K extends string, S extends z.ZodType>(kind: K, spec: S, meta: z.ZodType<z.infer<typeof metadata>> = metadata) =>
  z.looseObject({ apiVersion: z.literal('polyarch.io/v1alpha1'), kind: z.literal(kind), metadata: meta, spec });

/** A ScalingPolicy in a scenario: the workload is scaled as it says (otherwise one InPlace policy per workload). */
export const scalingPolicyDoc = polyarchDoc('ScalingPolicy', scalingPolicySpecSchema);

/** Placement policies in a scenario (docs/placement-policy.md): read by the simulated scheduler as `serve` reads them. */
export const placementPolicyDoc = polyarchDoc('PlacementPolicy', placementPolicySpecSchema);
export const clusterPlacementPolicyDoc = polyarchDoc('ClusterPlacementPolicy', placementPolicySpecSchema,
  metadata.refine((m) => m.name === CLUSTER_PLACEMENT_POLICY_NAME, { message: `only the ClusterPlacementPolicy named "${CLUSTER_PLACEMENT_POLICY_NAME}" is read`, path: ['name'] }));

export const kindSchemas = {
  Node: nodeDoc,
  Pod: podDoc,
  Deployment: deploymentDoc,
  StatefulSet: statefulSetDoc,
  PriorityClass: priorityClassDoc,
  PodDisruptionBudget: pdbDoc,
  ScalingPolicy: scalingPolicyDoc,
  PlacementPolicy: placementPolicyDoc,
  ClusterPlacementPolicy: clusterPlacementPolicyDoc,
  Scenario: scenarioDoc,
} as const;
export type Kind = keyof typeof kindSchemas;
