/**
 * Reads a scenario file: multi-document YAML of Kubernetes objects and one Scenario
 * document. Every error names the document (its index from 1, kind and name) and the
 * field path, e.g. `document 4 (Deployment shop/web): spec.replicas: expected number`.
 */
import type { PlacementPolicyObject } from '../../core/placement/policy-book.ts';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseYamlDocuments, yamlValues } from '../../adapters/yaml-documents.ts';
import type { z } from 'zod';
import type { Deployment, Node, Pod, PodDisruptionBudget, PriorityClass, StatefulSet } from '../../core/k8s/types.ts';
import { bytesOf, cpuMilli } from '../../core/units/amounts.ts';
import { MAX_NODES, MAX_PODS, tooManyPods } from '../../core/k8s/limits.ts';
import { parsePlatform } from '../../core/platform/platform.ts';
import { catalogFile, kindSchemas, type CatalogImage, type Kind, type Policy, type ScenarioEvent, type UsageEntry } from './schema.ts';
import { loadTrace, type UsageSeries } from '../trace.ts';
import { describeIssue } from '../../core/field-path.ts';

export interface UsageSource {
  readonly workload: string;
  readonly peakCpuMilli: number;
  readonly peakMemBytes: number;
  readonly trace?: { readonly series: UsageSeries; readonly offset: number; readonly file: string; readonly id: string; readonly max: { cpu: number; mem: number } };
  readonly pattern?: NonNullable<UsageEntry['pattern']>;
}

export interface Scenario {
  readonly name: string;
  readonly file: string;
  readonly durationMinutes: number;
  readonly startMs: number;
  readonly seed: number | undefined;
  readonly images: readonly CatalogImage[];
  readonly usage: ReadonlyMap<string, UsageSource>;
  readonly events: readonly ScenarioEvent[];
  readonly policy: Policy;
  readonly controlPlaneNodesPerCluster: number;
  readonly nodes: readonly Node[];
  readonly pods: readonly Pod[];
  readonly deployments: readonly Deployment[];
  readonly statefulSets: readonly StatefulSet[];
  readonly priorityClasses: readonly PriorityClass[];
  readonly pdbs: readonly PodDisruptionBudget[];
  /** ScalingPolicy objects of the scenario (spec as written; validated). */
  readonly scalingPolicies: readonly { readonly namespace: string; readonly name: string; readonly spec: unknown }[];
  /** PlacementPolicy and ClusterPlacementPolicy objects of the scenario (validated). */
  readonly placementPolicies?: readonly PlacementPolicyObject[];
  /** Workloads created by a `deploy` event rather than at the start. */
  readonly deferred: ReadonlySet<string>;
}

export type LoadResult = { ok: true; value: Scenario } | { ok: false; errors: string[] };

const workloadKey = (ns: string | undefined, name: string | undefined): string => `${ns ?? 'default'}/${name ?? ''}`;
const normaliseKey = (ref: string): string => (ref.includes('/') ? ref : `default/${ref}`);

export function parseScenario(text: string, file: string): LoadResult {
  const errors: string[] = [];
  const objects: { index: number; kind: Kind; value: unknown; label: string }[] = [];
  parseYamlDocuments(text).forEach((doc, i) => {
    const index = i + 1;
    if (!doc.ok) {
      errors.push(`${file}: ${doc.error}`);
      return;
    }
    const raw = doc.value;
    if (raw === null || raw === undefined) return; // an empty document (a trailing ---)
    const items: unknown[] = isRecord(raw) && raw.kind === 'List' && Array.isArray(raw.items) ? raw.items : [raw];
    items.forEach((item, j) => {
      const where = items.length > 1 || item !== raw ? `document ${index} item ${j + 1}` : `document ${index}`;
      if (!isRecord(item)) {
        errors.push(`${where}: not a mapping`);
        return;
      }
      const kind = typeof item.kind === 'string' ? item.kind : undefined;
      const meta = isRecord(item.metadata) ? item.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : '?';
      const label = `${where} (${kind ?? 'no kind'} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${name})`;
      if (kind === undefined || !(kind in kindSchemas)) {
        errors.push(`${label}: kind: ${kind === undefined ? 'missing' : `unsupported "${kind}"`} (want one of ${Object.keys(kindSchemas).join(', ')})`);
        return;
      }
      const parsed = kindSchemas[kind as Kind].safeParse(item);
      if (!parsed.success) {
        for (const issue of parsed.error.issues.slice(0, 5)) errors.push(`${label}: ${describeIssue(issue, '(document)')}`);
        return;
      }
      objects.push({ index, kind: kind as Kind, value: parsed.data, label });
    });
  });
  if (errors.length > 0) return { ok: false, errors };

  const scenarios = objects.filter((o) => o.kind === 'Scenario');
  if (scenarios.length !== 1) {
    return { ok: false, errors: [`${file}: want exactly one document of kind Scenario (apiVersion polyarch.io/v1alpha1), found ${scenarios.length}`] };
  }
  const sc = scenarios[0]!;
  const spec = (sc.value as z.infer<typeof kindSchemas.Scenario>).spec;
  const of = <T>(kind: Kind): T[] => objects.filter((o) => o.kind === kind).map((o) => o.value as T);
  const nodes = of<Node>('Node');
  const pods = of<Pod>('Pod');
  const deployments = of<Deployment>('Deployment');
  const statefulSets = of<StatefulSet>('StatefulSet');

  // Names must be unique per kind, as the API server would insist.
  for (const kind of ['Node', 'Pod', 'Deployment', 'StatefulSet', 'PriorityClass', 'PodDisruptionBudget', 'ScalingPolicy', 'PlacementPolicy', 'ClusterPlacementPolicy'] as const) {
    const seen = new Set<string>();
    for (const o of objects.filter((x) => x.kind === kind)) {
      const m = (o.value as { metadata: { name: string; namespace?: string } }).metadata;
      const k = kind === 'Node' || kind === 'PriorityClass' || kind === 'ClusterPlacementPolicy' ? m.name : workloadKey(m.namespace, m.name);
      if (seen.has(k)) errors.push(`${o.label}: metadata.name: duplicate ${kind} ${k}`);
      seen.add(k);
    }
  }
  nodes.forEach((n) => {
    const o = objects.find((x) => x.value === n)!;
    const arch = n.metadata.labels?.['kubernetes.io/arch'] ?? n.status?.nodeInfo?.architecture;
    if (!arch) errors.push(`${o.label}: metadata.labels.kubernetes.io/arch: missing (and no status.nodeInfo.architecture)`);
    const alloc = n.status?.allocatable ?? n.status?.capacity;
    if (!alloc?.cpu || !alloc.memory) errors.push(`${o.label}: status.allocatable: cpu and memory are required`);
  });
  const pcs = new Set(of<PriorityClass>('PriorityClass').map((p) => p.metadata.name ?? ''));
  const checkPriority = (spec2: Pod['spec'], label: string, path: string): void => {
    if (spec2.priorityClassName && !pcs.has(spec2.priorityClassName) && !spec2.priorityClassName.startsWith('system-')) {
      errors.push(`${label}: ${path}.priorityClassName: no PriorityClass "${spec2.priorityClassName}" in the scenario`);
    }
  };
  for (const o of objects) {
    if (o.kind === 'Pod') checkPriority((o.value as Pod).spec, o.label, 'spec');
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') checkPriority((o.value as Deployment).spec.template.spec, o.label, 'spec.template.spec');
  }

  const scLabel = sc.label;
  const workloads = new Set([
    ...deployments.map((d) => workloadKey(d.metadata.namespace, d.metadata.name)),
    ...statefulSets.map((d) => workloadKey(d.metadata.namespace, d.metadata.name)),
  ]);
  const podKeys = new Set(pods.map((p) => workloadKey(p.metadata.namespace, p.metadata.name)));
  const nodeNames = new Set(nodes.map((n) => n.metadata.name ?? ''));
  const baseDir = dirname(resolve(file));

  // Catalog: inline images plus an optional file.
  const images: CatalogImage[] = [...spec.images];
  if (spec.catalogFile) {
    const path = resolve(baseDir, spec.catalogFile);
    try {
      const docs = yamlValues(readFileSync(path, 'utf8'));
      if (!docs.ok) throw new Error(docs.error);
      const parsed = catalogFile.safeParse(docs.value[0] ?? {});
      if (parsed.success) images.push(...parsed.data.images);
      else for (const i of parsed.error.issues.slice(0, 5)) errors.push(`${scLabel}: spec.catalogFile ${spec.catalogFile}: ${describeIssue(i, '(document)')}`);
    } catch (err) {
      errors.push(`${scLabel}: spec.catalogFile: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}`);
    }
  }
  images.forEach((img, i) => {
    const plats = 'platforms' in img ? img.platforms : Object.keys(img.tags);
    for (const p of plats) {
      const r = parsePlatform(p);
      if (!r.ok) errors.push(`${scLabel}: spec.images[${i}]: ${r.error}`);
    }
  });

  // Usage sources: traces loaded once per file.
  const traces = new Map<string, Map<string, UsageSeries> | undefined>();
  const usage = new Map<string, UsageSource>();
  spec.usage.forEach((u, i) => {
    const key = normaliseKey(u.workload);
    const path = `spec.usage[${i}]`;
    if (!workloads.has(key) && !podKeys.has(key)) errors.push(`${scLabel}: ${path}.workload: no Deployment, StatefulSet or Pod ${key} in the scenario`);
    const cpu = cpuMilli(u.peak.cpu);
    const mem = bytesOf(u.peak.memory);
    if (cpu === undefined) errors.push(`${scLabel}: ${path}.peak.cpu: not a quantity`);
    if (mem === undefined) errors.push(`${scLabel}: ${path}.peak.memory: not a quantity`);
    if (cpu === undefined || mem === undefined) return;
    if (u.trace) {
      const tracePath = resolve(baseDir, u.trace.file);
      if (!traces.has(tracePath)) {
        const t = loadTrace(tracePath);
        if (!t.ok) errors.push(`${scLabel}: ${path}.trace.file: ${t.error}`);
        traces.set(tracePath, t.ok ? t.value : undefined);
      }
      const series = traces.get(tracePath)?.get(u.trace.series);
      if (traces.get(tracePath) && !series) {
        errors.push(`${scLabel}: ${path}.trace.series: no series "${u.trace.series}" in ${u.trace.file} (has ${[...(traces.get(tracePath)?.keys() ?? [])].join(', ')})`);
      }
      if (!series) return;
      let maxCpu = 0;
      let maxMem = 0;
      for (let m = 0; m < series.cpu.length; m++) {
        maxCpu = Math.max(maxCpu, series.cpu[m]!);
        maxMem = Math.max(maxMem, series.mem[m]!);
      }
      usage.set(key, {
        workload: key, peakCpuMilli: cpu, peakMemBytes: mem,
        trace: { series, offset: u.trace.offset ?? 0, file: u.trace.file, id: u.trace.series, max: { cpu: maxCpu || 1, mem: maxMem || 1 } },
      });
    } else if (u.pattern) {
      usage.set(key, { workload: key, peakCpuMilli: cpu, peakMemBytes: mem, pattern: u.pattern });
    }
  });

  // What the run expands to, before it runs: each workload at its largest (initial or scaled).
  if (nodes.length > MAX_NODES) errors.push(`${file}: ${nodes.length} Nodes, over the limit of ${MAX_NODES} (Kubernetes' tested maximum per cluster)`);
  const peak = new Map<string, number>();
  for (const d of [...deployments, ...statefulSets]) peak.set(workloadKey(d.metadata.namespace, d.metadata.name), d.spec.replicas ?? 1);
  for (const e of spec.events) if (e.type === 'scale') peak.set(normaliseKey(e.workload), Math.max(peak.get(normaliseKey(e.workload)) ?? 0, e.replicas));
  const podTotal = pods.length + [...peak.values()].reduce((a, b) => a + b, 0);
  if (podTotal > MAX_PODS) errors.push(`${file}: ${tooManyPods(podTotal)}, counting each workload at its largest scale`);

  const deferred = new Set<string>();
  spec.events.forEach((e, i) => {
    const path = `spec.events[${i}]`;
    if (e.at > spec.duration) errors.push(`${scLabel}: ${path}.at: ${e.at} minutes is after the end (${spec.duration})`);
    if ((e.type === 'node-failure' || e.type === 'drain' || e.type === 'recovery' || e.type === 'fence') && !nodeNames.has(e.node)) {
      errors.push(`${scLabel}: ${path}.node: no Node "${e.node}" in the scenario`);
    }
    if (e.type === 'deploy' || e.type === 'scale') {
      const key = normaliseKey(e.workload);
      if (!workloads.has(key)) errors.push(`${scLabel}: ${path}.workload: no Deployment or StatefulSet ${key} in the scenario`);
      if (e.type === 'deploy') deferred.add(key);
    }
  });

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      name: (sc.value as { metadata: { name: string } }).metadata.name,
      file,
      durationMinutes: spec.duration,
      startMs: Date.parse(spec.start),
      seed: spec.seed,
      images,
      usage,
      events: [...spec.events].sort((a, b) => a.at - b.at),
      policy: spec.policy,
      controlPlaneNodesPerCluster: spec.controlPlaneNodesPerCluster,
      nodes,
      pods,
      deployments,
      statefulSets,
      priorityClasses: of<PriorityClass>('PriorityClass'),
      pdbs: of<PodDisruptionBudget>('PodDisruptionBudget'),
      scalingPolicies: objects.filter((o) => o.kind === 'ScalingPolicy').map((o) => {
        const d = o.value as { metadata: { name: string; namespace?: string }; spec: unknown };
        return { namespace: d.metadata.namespace ?? 'default', name: d.metadata.name, spec: d.spec };
      }),
      placementPolicies: objects.filter((o) => o.kind === 'PlacementPolicy' || o.kind === 'ClusterPlacementPolicy').map((o) => {
        const d = o.value as { kind: 'PlacementPolicy' | 'ClusterPlacementPolicy'; metadata: { name: string; namespace?: string }; spec: unknown };
        return { kind: d.kind, metadata: { name: d.metadata.name, ...(d.kind === 'PlacementPolicy' ? { namespace: d.metadata.namespace ?? 'default' } : {}) }, spec: d.spec };
      }),
      deferred,
    },
  };
}

export function loadScenario(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`] };
  }
  return parseScenario(text, file);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
