import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseQuantity } from '../../core/k8s/quantity.ts';
import { runtimeIdOf } from '../../core/probe/paths.ts';
import { appOfPod } from '../../core/probe/app-of.ts';
import type { ContainerInfo, NodePodInfo, PodInfoResult, PodInfoSource, ResourceAmounts } from '../../ports/pod-info.ts';
import { formatPath } from '../../core/field-path.ts';

// Only the fields the probe reads; everything else in a Pod is let through untouched.
const quantity = z.union([z.string(), z.number()]);
const resources = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).loose();
const podSchema = z
  .object({
    metadata: z
      .object({
        uid: z.string().min(1),
        name: z.string().min(1),
        namespace: z.string().default('default'),
        labels: z.record(z.string(), z.string()).optional(),
        ownerReferences: z.array(z.object({ kind: z.string(), name: z.string(), controller: z.boolean().optional() }).loose()).optional(),
      })
      .loose(),
    spec: z
      .object({
        nodeName: z.string().optional(),
        hostNetwork: z.boolean().optional(),
        containers: z.array(
          z.object({ name: z.string().min(1), resources: z.object({ requests: resources.optional(), limits: resources.optional() }).loose().optional() }).loose(),
        ),
      })
      .loose(),
    status: z
      .object({
        conditions: z.array(z.object({ type: z.string(), status: z.string(), lastTransitionTime: z.string().optional() }).loose()).optional(),
        containerStatuses: z.array(z.object({ name: z.string(), containerID: z.string().optional(), ready: z.boolean() }).loose()).optional(),
      })
      .loose()
      .default({}),
  })
  .loose();
const podListSchema = z.object({ items: z.array(podSchema) }).loose();

export type KubePod = z.infer<typeof podSchema>;


/** A PodList (`kubectl get pods -o json`, or the API's list) as the probe's NodePodInfo. */
export function podInfoFromPodList(input: unknown, options: { nodeName?: string; source: string }): PodInfoResult {
  const parsed = podListSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, error: { kind: 'invalid', message: `${options.source}: ${formatPath(issue.path) || '(root)'}: ${issue.message}` } };
  }
  const pods: NodePodInfo[] = [];
  for (let i = 0; i < parsed.data.items.length; i++) {
    const pod = parsed.data.items[i]!;
    if (options.nodeName !== undefined && pod.spec.nodeName !== options.nodeName) continue;
    const mapped = podInfoOf(pod, `${options.source}: items[${i}]`);
    if (!mapped.ok) return mapped;
    pods.push(mapped.value);
  }
  return { ok: true, pods };
}

function podInfoOf(pod: KubePod, where: string): { ok: true; value: NodePodInfo } | { ok: false; error: { kind: 'invalid'; message: string } } {
  const statuses = new Map((pod.status.containerStatuses ?? []).map((s) => [s.name, s]));
  const containers: ContainerInfo[] = [];
  for (let c = 0; c < pod.spec.containers.length; c++) {
    const spec = pod.spec.containers[c]!;
    const amounts = (kind: 'requests' | 'limits'): ResourceAmounts | string => {
      const r = spec.resources?.[kind];
      const out: { cpu?: number; memory?: number } = {};
      for (const res of ['cpu', 'memory'] as const) {
        const q = r?.[res];
        if (q === undefined) continue;
        const v = parseQuantity(q);
        if (!v.ok) return `spec.containers[${c}].resources.${kind}.${res}: ${v.error}`;
        out[res] = v.value;
      }
      return out;
    };
    const requests = amounts('requests');
    const limits = amounts('limits');
    if (typeof requests === 'string') return { ok: false, error: { kind: 'invalid', message: `${where}.${requests}` } };
    if (typeof limits === 'string') return { ok: false, error: { kind: 'invalid', message: `${where}.${limits}` } };
    const status = statuses.get(spec.name);
    containers.push({
      name: spec.name,
      ...(status?.containerID ? { id: runtimeIdOf(status.containerID) } : {}),
      ready: status?.ready ?? false,
      requests,
      limits,
    });
  }
  const readyCondition = pod.status.conditions?.find((c) => c.type === 'Ready');
  const ready = readyCondition?.status === 'True';
  const since = readyCondition?.lastTransitionTime ? Date.parse(readyCondition.lastTransitionTime) : Number.NaN;
  return {
    ok: true,
    value: {
      uid: pod.metadata.uid,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      app: appOfPod(pod),
      ready,
      ...(ready && Number.isFinite(since) ? { readySince: since } : {}),
      ...(pod.spec.hostNetwork ? { hostNetwork: true } : {}),
      containers,
    },
  };
}

/** Pods from a JSON file (a PodList), re-read on every call so an updated file is seen. */
export function filePodInfoSource(path: string, nodeName?: string): PodInfoSource {
  return {
    description: `file ${path}`,
    async list() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return { ok: false, error: { kind: code === 'ENOENT' ? 'not-found' : 'other', message: `pod list ${path}: ${code ?? String(err)}` } };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        return { ok: false, error: { kind: 'invalid', message: `pod list ${path}: not JSON (${(err as Error).message})` } };
      }
      return podInfoFromPodList(json, { source: `pod list ${path}`, ...(nodeName !== undefined ? { nodeName } : {}) });
    },
  };
}

/** Pods from a function (tests, or a caller that already holds them). */
export function functionPodInfoSource(fn: () => readonly NodePodInfo[] | Promise<readonly NodePodInfo[]>, description = 'function'): PodInfoSource {
  return {
    description,
    async list() {
      return { ok: true, pods: await fn() };
    },
  };
}
