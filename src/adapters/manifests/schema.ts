/**
 * Schemas of the Kubernetes objects `polyarch schedule` reads from manifests: the
 * objects' own fields here; pod specs, templates, taints and quantities are the one schema
 * of core/k8s/schema.ts (shared with scenario files), which checks the fields placement
 * uses with the API's rules and lets every other field through untouched.
 */

import { z } from 'zod';
import { MAX_PODS } from '../../core/k8s/limits.ts';
import { podSpec, podTemplate, resourceList, stringMap, taint } from '../../core/k8s/schema.ts';

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

const template = podTemplate;
const replicas = z.number().int().min(0).max(MAX_PODS, `at most ${MAX_PODS} (Kubernetes' tested maximum of pods per cluster)`).nullish();

export const schemas = {
  Node: z.looseObject({
    metadata: objectMeta,
    spec: z
      .looseObject({
        unschedulable: z.boolean().optional(),
        taints: z.array(taint).nullish(),
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
