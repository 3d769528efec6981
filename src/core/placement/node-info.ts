/**
 * What the scheduler knows about one node, precomputed once per node (not per pod):
 * parsed allocatable, taints split by effect, platform, image names, and the running
 * totals of what the pods assumed on it request. Mutated only by ClusterSnapshot.
 */

import { parseReference, formatReference } from '../image/reference.ts';
import { nodePlatform, type Platform } from '../platform/platform.ts';
import { displayPlatform } from './display.ts';
import { emptyResources, nodeAllocatable, type Resources } from '../k8s/resources.ts';
import type { Labels, Node, Taint } from '../k8s/types.ts';
import { Reasons, unresolvable, type Status } from './status.ts';

export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

/** What one pod holds on a node; enough to release it again. */
export interface PodAccount {
  readonly key: string;
  readonly requests: Resources;
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
}

export class NodeInfo {
  readonly name: string;
  readonly labels: Labels;
  /** NoSchedule and NoExecute taints: the filter's concern. */
  readonly hardTaints: readonly Taint[];
  /** The TaintToleration filter's refusal for each hard taint, built once. */
  readonly hardTaintStatuses: readonly Status[];
  /** PreferNoSchedule taints: the score's concern. */
  readonly softTaints: readonly Taint[];
  readonly unschedulable: boolean;
  /** False only when a Ready condition says so; a node written without conditions is ready. */
  readonly ready: boolean;
  readonly platform: Platform | undefined;
  /** displayPlatform(platform), or '' when unknown. */
  readonly platformKey: string;
  /** Why the node cannot be used at all (unparseable allocatable), if it cannot. */
  readonly invalid: string | undefined;
  readonly allocatable: Resources;
  readonly allowedPods: number;
  /** Normalised image reference -> size in bytes (status.images). */
  readonly images: ReadonlyMap<string, number>;

  // Running totals, updated when pods are assumed or forgotten.
  readonly requested: Resources = emptyResources();
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  podCount = 0;
  /** hostIP -> set of "protocol/port" in use. */
  readonly usedPorts = new Map<string, Set<string>>();
  readonly pods = new Map<string, PodAccount>();

  constructor(readonly node: Node) {
    this.name = node.metadata.name ?? '';
    this.labels = node.metadata.labels ?? {};
    const taints = node.spec?.taints ?? [];
    this.hardTaints = taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    this.hardTaintStatuses = this.hardTaints.map((t) => Object.freeze(unresolvable('TaintToleration', Reasons.untoleratedTaint(t))));
    this.softTaints = taints.filter((t) => t.effect === 'PreferNoSchedule');
    this.unschedulable = node.spec?.unschedulable === true;
    const readyCond = node.status?.conditions?.find((c) => c.type === 'Ready');
    this.ready = readyCond === undefined || readyCond.status === 'True';
    const p = nodePlatform(node);
    this.platform = p.ok ? p.value : undefined;
    this.platformKey = p.ok ? displayPlatform(p.value) : '';
    const alloc = nodeAllocatable(node);
    this.invalid = alloc.ok ? undefined : `node ${this.name}: ${alloc.error}`;
    this.allocatable = alloc.ok ? alloc.value.resources : emptyResources();
    this.allowedPods = alloc.ok ? alloc.value.pods : 0;
    const images = new Map<string, number>();
    for (const img of node.status?.images ?? []) {
      for (const name of img.names ?? []) {
        const key = normaliseImageName(name);
        if (key !== undefined) images.set(key, img.sizeBytes ?? 0);
      }
    }
    this.images = images;
  }
}

/**
 * The snapshot's nodes with the numbers the dynamic plugins read (room and running
 * totals) laid out per position in snapshot.nodes, kept by the placement index for its
 * batches (FilterPlugin.filterMany, ScorePlugin.scoreMany): reading them is reading
 * the NodeInfo fields of the same name, without visiting each node's objects.
 */
export interface NodeTable {
  readonly infos: readonly NodeInfo[];
  readonly allocatableMilliCPU: Float64Array;
  readonly allocatableMemory: Float64Array;
  readonly allocatableEphemeralStorage: Float64Array;
  readonly allowedPods: Float64Array;
  readonly requestedMilliCPU: Float64Array;
  readonly requestedMemory: Float64Array;
  readonly requestedEphemeralStorage: Float64Array;
  readonly nonZeroMilliCPU: Float64Array;
  readonly nonZeroMemory: Float64Array;
  readonly podCount: Float64Array;
}

/** The form image names are compared in: fully qualified, `latest` made explicit. */
export function normaliseImageName(name: string): string | undefined {
  const r = parseReference(name);
  return r.ok ? formatReference(r.value) : undefined;
}
