/**
 * The one schema of the Kubernetes fields polyarch reads from outside: pod specs and pod
 * templates (containers, resources, node selectors, affinity, tolerations, priority),
 * taints, label selectors and quantities, with the API server's rules where a mistake
 * would change a decision; every other field passes through untouched. Used by the
 * manifests of `polyarch schedule` (adapters/manifests/schema.ts), the scenario files of
 * `polyarch simulate` (sim/scenario/schema.ts) and ScalingPolicy bounds. Errors name the
 * field with `describeIssue` (core/field-path.ts): `spec.containers[0].image: image is required`.
 */
import { z } from 'zod';
import { parseQuantityExact } from './quantity.ts';

/** A resource quantity (`500m`, `2`, `4Gi`, or a number), never negative; the error says why not (`invalid quantity "1GB": unknown suffix "GB"`). */
export const quantity = z.union([z.string(), z.number()]).superRefine((v, ctx) => {
  const q = parseQuantityExact(v);
  if (!q.ok) ctx.addIssue({ code: 'custom', message: q.error });
  else if (q.value.nano < 0n) ctx.addIssue({ code: 'custom', message: `quantity "${v}" must not be negative` });
});
export const resourceList = z.record(z.string(), quantity);
export const stringMap = z.record(z.string(), z.string());

/** A DNS-1123 label (container names): lower-case alphanumerics and '-', at most 63. */
const dnsLabel = z.string().min(1, 'is required').max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a DNS-1123 label (lower-case letters, digits and "-")');

export const taintEffect = z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
export const taint = z.looseObject({ key: z.string().min(1), value: z.string().nullish(), effect: taintEffect });

export const toleration = z
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

export const selectorRequirement = z
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

export const labelSelector = z.looseObject({ matchLabels: stringMap.nullish(), matchExpressions: z.array(selectorRequirement).nullish() });

export const nodeSelectorTerm = z.looseObject({
  matchExpressions: z.array(selectorRequirement).nullish(),
  matchFields: z.array(selectorRequirement).nullish(),
});

export const affinity = z.looseObject({
  nodeAffinity: z
    .looseObject({
      requiredDuringSchedulingIgnoredDuringExecution: z.looseObject({ nodeSelectorTerms: z.array(nodeSelectorTerm).min(1) }).nullish(),
      preferredDuringSchedulingIgnoredDuringExecution: z.array(z.looseObject({ weight: z.number().int().min(1).max(100), preference: nodeSelectorTerm })).nullish(),
    })
    .nullish(),
});

const port = z.looseObject({
  containerPort: z.number().int().min(1).max(65535),
  hostPort: z.number().int().min(0).max(65535).optional(),
  hostIP: z.string().optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});

const resources = z.looseObject({ requests: resourceList.nullish(), limits: resourceList.nullish() });

export const container = z.looseObject({
  name: dnsLabel,
  image: z.string().min(1, 'image is required'),
  ports: z.array(port).nullish(),
  resources: resources.nullish(),
  restartPolicy: z.string().nullish(),
});

/** A pod's spec: what placement, admission and scaling read. */
export const podSpec = z.looseObject({
  containers: z.array(container).min(1, 'at least one container is required'),
  initContainers: z.array(container).nullish(),
  nodeName: z.string().optional(),
  nodeSelector: stringMap.nullish(),
  affinity: affinity.nullish(),
  tolerations: z.array(toleration).nullish(),
  priorityClassName: z.string().optional(),
  priority: z.number().int().nullish(),
  schedulerName: z.string().optional(),
  overhead: resourceList.nullish(),
  resources: resources.nullish(),
  hostNetwork: z.boolean().optional(),
});

export const podTemplateMeta = z.looseObject({ labels: stringMap.nullish(), annotations: stringMap.nullish() });

/** A workload's pod template (`spec.template`). */
export const podTemplate = z.looseObject({ metadata: podTemplateMeta.nullish(), spec: podSpec });
