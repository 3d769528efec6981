/**
 * The result of a filter plugin, modelled on kube-scheduler's framework.Status:
 * Unschedulable may be resolved by evicting pods from the node (preemption) or by
 * resources freeing up; UnschedulableAndUnresolvable cannot be resolved on that node;
 * Error is a bug or bad input, not a verdict on the node (kube-scheduler's; no plugin here
 * returns it).
 */

import { formatTaint } from '../k8s/taints.ts';
import type { Taint } from '../k8s/types.ts';

export type Code = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';

export interface Status {
  readonly code: Code;
  /** One or more reasons, each counted once per node in a failure summary. */
  readonly reasons: readonly string[];
  /** The plugin that returned it. */
  readonly plugin?: string;
}

export const SUCCESS: Status = Object.freeze({ code: 'Success', reasons: [] });

export const unschedulable = (plugin: string, ...reasons: string[]): Status => ({ code: 'Unschedulable', reasons, plugin });
export const unresolvable = (plugin: string, ...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons, plugin });

/** Reason strings, as kube-scheduler prints them where it has one. */
export const Reasons = {
  nodeUnschedulable: 'node(s) were unschedulable',
  nodeNotReady: 'node(s) were not ready',
  nodeName: "node(s) didn't match the requested node name",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  nodePorts: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: 'Too many pods',
  nodeInvalid: 'node(s) had an invalid status',
  nodeNoPlatform: 'node(s) had no known platform',
  insufficient: (resource: string): string => `Insufficient ${resource}`,
  insufficientCpu: 'Insufficient cpu',
  insufficientMemory: 'Insufficient memory',
  untoleratedTaint: (taint: Taint): string => `node(s) had untolerated taint ${formatTaint(taint)}`,
  platform: (image: string, platforms: string): string => `node(s) can't run any platform of image ${image} (has ${platforms})`,
} as const;
