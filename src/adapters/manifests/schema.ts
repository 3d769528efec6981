/**
 * Schemas of the Kubernetes objects `polyarch schedule` reads from manifests. They check
 * the fields placement uses, with the API's rules where a mistake would change a
 * decision (quantities parse, toleration and selector operators, effects), and let every
 * other field through untouched.
 */

import { z } from 'zod';
import { parseQuantityExact } from '../../core/k8s/quantity.ts';
import { MAX_PODS } from '../../core/k8s/limits.ts';

const quantity = z.union([z.string(), z.number()]).superRefine((v, ctx) => {
  const q = parseQuantityExact(v);
  if (!q.ok) ctx.addIssue({ code: 'custom', message: q.error });
  else if (q.value.nano < 0n) ctx.addIssue({ code: 'custom', message: `quantity "${v}" must not be negative` });
});
const resourceList = z.record(z.string(), quantity);
const stringMap = z.record(z.string(), z.string());

const metaFields = {
  name: z.string().min(1, 'name is required'),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  labels: stringMap.nullish(),
  annotations: stringMap.nullish(),
  creationTimestamp: z.string().nullish(),
};

export const objectMeta = z.looseObject(metaFields);

/** Pods and Jobs may be written with generateName only (`kubectl create`); the parser names them. */
const generatedMeta = z.looseObject({ ...metaFields, name: metaFields.name.optional() }).refine((m) => m.name !== undefined || (m.generateName ?? '') !== '', {
  message: 'name or generateName is required',
  path: ['name'],
});

const templateMeta = z.looseObject(metaFields).partial();

const taintEffect = z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

const toleration = z
  .looseObject({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.union([taintEffect, z.literal('')]).optional(),
    tolerationSeconds: z.number().int().nullish(),
  })
  .superRefine((t, ctx) => {
    if (t.operator === 'Exists' && t.value) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be empty when operator is Exists' });
    if (!t.key && t.operator !== 'Exists') ctx.addIssue({ code: 'custom', path: ['operator'], message: 'must be Exists when key is empty' });
  });

const selectorRequirement = z
  .looseObject({
    key: z.string().min(1),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']),
    values: z.array(z.string()).nullish(),
  })
  .superRefine((r, ctx) => {
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `must be non-empty for ${r.operator}` });
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `must be empty for ${r.operator}` });
    if ((r.operator === 'Gt' || r.operator === 'Lt') && (n !== 1 || !/^[+-]?[0-9]+$/.test(r.values?.[0] ?? ''))) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `must be a single integer for ${r.operator}` });
    }
  });

const nodeSelectorTerm = z.looseObject({
  matchExpressions: z.array(selectorRequirement).nullish(),
  matchFields: z.array(selectorRequirement).nullish(),
});

const affinity = z.looseObject({
  nodeAffinity: z
    .looseObject({
      requiredDuringSchedulingIgnoredDuringExecution: z.looseObject({ nodeSelectorTerms: z.array(nodeSelectorTerm).min(1) }).nullish(),
      preferredDuringSchedulingIgnoredDuringExecution: z
        .array(z.looseObject({ weight: z.number().int().min(1).max(100), preference: nodeSelectorTerm }))
        .nullish(),
    })
    .nullish(),
});

const port = z.looseObject({
  containerPort: z.number().int().min(1).max(65535),
  hostPort: z.number().int().min(0).max(65535).optional(),
  hostIP: z.string().optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});

const container = z.looseObject({
  name: z.string().min(1),
  image: z.string().min(1, 'image is required'),
  ports: z.array(port).nullish(),
  resources: z.looseObject({ requests: resourceList.nullish(), limits: resourceList.nullish() }).nullish(),
  restartPolicy: z.string().nullish(),
});

export const podSpec = z.looseObject({
  containers: z.array(container).min(1, 'at least one container is required'),
  initContainers: z.array(container).nullish(),
  nodeName: z.string().optional(),
  nodeSelector: stringMap.nullish(),
  affinity: affinity.nullish(),
  tolerations: z.array(toleration).nullish(),
  priorityClassName: z.string().optional(),
  priority: z.number().int().nullish(),
  overhead: resourceList.nullish(),
  resources: z.looseObject({ requests: resourceList.nullish(), limits: resourceList.nullish() }).nullish(),
  hostNetwork: z.boolean().optional(),
});

const template = z.looseObject({ metadata: templateMeta.nullish(), spec: podSpec });
const replicas = z.number().int().min(0).max(MAX_PODS, `at most ${MAX_PODS} (Kubernetes' tested maximum of pods per cluster)`).nullish();

export const schemas = {
  Node: z.looseObject({
    metadata: objectMeta,
    spec: z
      .looseObject({
        unschedulable: z.boolean().optional(),
        taints: z.array(z.looseObject({ key: z.string().min(1), value: z.string().optional(), effect: taintEffect })).nullish(),
      })
      .nullish(),
    status: z
      .looseObject({
        allocatable: resourceList.nullish(),
        capacity: resourceList.nullish(),
        conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).nullish(),
        images: z.array(z.looseObject({ names: z.array(z.string()).nullish(), sizeBytes: z.number().optional() })).nullish(),
        nodeInfo: z.looseObject({ architecture: z.string().optional(), operatingSystem: z.string().optional() }).nullish(),
      })
      .nullish(),
  }),
  Pod: z.looseObject({ metadata: generatedMeta, spec: podSpec, status: z.looseObject({ phase: z.string().optional() }).nullish() }),
  Deployment: z.looseObject({ metadata: objectMeta, spec: z.looseObject({ replicas, template }) }),
  ReplicaSet: z.looseObject({ metadata: objectMeta, spec: z.looseObject({ replicas, template }) }),
  StatefulSet: z.looseObject({ metadata: objectMeta, spec: z.looseObject({ replicas, template, ordinals: z.looseObject({ start: z.number().int().min(0).optional() }).nullish() }) }),
  DaemonSet: z.looseObject({ metadata: objectMeta, spec: z.looseObject({ template }) }),
  Job: z.looseObject({
    metadata: generatedMeta,
    spec: z.looseObject({
      parallelism: replicas,
      completions: replicas,
      completionMode: z.enum(['NonIndexed', 'Indexed']).optional(),
      suspend: z.boolean().optional(),
      template,
    }),
  }),
  PriorityClass: z.looseObject({ metadata: objectMeta, value: z.number().int().max(1_000_000_000, 'user PriorityClass values are at most 1000000000'), globalDefault: z.boolean().optional() }),
  PodDisruptionBudget: z.looseObject({ metadata: objectMeta, spec: z.looseObject({}) }),
} as const;

export type KnownKind = keyof typeof schemas;
