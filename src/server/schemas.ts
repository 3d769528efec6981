/**
 * Schemas of what kube-apiserver and kube-scheduler send. Objects are loose: unknown
 * fields pass through untouched (node objects are echoed back to kube-scheduler), and
 * only the fields polyarch reads or patches are checked, so errors name those fields.
 */
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());

const requirement = z.looseObject({ key: z.string(), operator: z.string(), values: z.array(z.string()).nullish().transform((v) => v ?? undefined) });
const term = z.looseObject({
  matchExpressions: z.array(requirement).nullish().transform((v) => v ?? undefined),
  matchFields: z.array(requirement).nullish().transform((v) => v ?? undefined),
});
const nodeAffinity = z.looseObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.looseObject({ nodeSelectorTerms: z.array(term) }).nullish(),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(z.looseObject({ weight: z.number(), preference: term })).nullish(),
});
const container = z.looseObject({ name: z.string(), image: z.string().optional() });

export const podSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string().optional(),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    labels: stringMap.nullish(),
    annotations: stringMap.nullish(),
  }).optional(),
  spec: z.looseObject({
    containers: z.array(container).nullish(),
    initContainers: z.array(container).nullish(),
    nodeSelector: stringMap.nullish(),
    nodeName: z.string().optional(),
    affinity: z.looseObject({ nodeAffinity: nodeAffinity.nullish() }).nullish(),
    schedulingGates: z.array(z.looseObject({ name: z.string() })).nullish(),
  }).optional(),
});

export const nodeSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), labels: stringMap.nullish() }),
  spec: z.looseObject({ unschedulable: z.boolean().nullish() }).nullish(),
  status: z.looseObject({
    nodeInfo: z.looseObject({ architecture: z.string().optional(), operatingSystem: z.string().optional() }).nullish(),
    conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).nullish(),
  }).nullish(),
});

/** k8s.io/kube-scheduler/extender/v1 ExtenderArgs (Go field names: no json tags, so PascalCase). */
export const extenderArgsSchema = z.object({
  Pod: podSchema,
  Nodes: z.looseObject({ items: z.array(nodeSchema).nullish() }).nullish(),
  NodeNames: z.array(z.string()).nullish(),
});

/** Object names are DNS subdomains (at most 253 characters), UIDs 36: a longer one is refused, never echoed. */
const objectName = z.string().min(1).max(253);
export const extenderBindingArgsSchema = z.object({
  PodName: objectName,
  PodNamespace: z.string().max(63),
  PodUID: z.string().max(128).default(''),
  Node: objectName,
});

/**
 * Go's encoding/json matches field names case-insensitively, so any extender written in
 * Go accepts `pod` for `Pod`; do the same for the top-level fields.
 */
export function canonicalKeys(body: unknown, names: readonly string[]): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const canon = byLower.get(k.toLowerCase());
    if (canon !== undefined && (canon === k || !(canon in body))) out[canon] = v;
  }
  return out;
}

export const admissionReviewSchema = z.object({
  apiVersion: z.enum(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: z.looseObject({ group: z.string(), version: z.string(), kind: z.string() }),
    operation: z.string(),
    namespace: z.string().optional(),
    subResource: z.string().optional(),
    object: z.unknown().optional(),
    dryRun: z.boolean().optional(),
  }),
});

/** Field path and message of the first few problems, for a one-line answer. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}
