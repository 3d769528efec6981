/** NodeUnschedulable, NodeReady and NodeName filters. */

import { toleratesAny } from '../../k8s/taints.ts';
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNSCHEDULABLE } from '../../k8s/types.ts';
import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable } from '../status.ts';

// Refusals are constants: these filters run once per node per pod.
const INVALID = Object.freeze(unresolvable('NodeUnschedulable', Reasons.nodeInvalid));
const CORDONED = Object.freeze(unresolvable('NodeUnschedulable', Reasons.nodeUnschedulable));
const NOT_READY = Object.freeze(unresolvable('NodeReady', Reasons.nodeNotReady));
const OTHER_NODE = Object.freeze(unresolvable('NodeName', Reasons.nodeName));

const UNSCHEDULABLE_TAINT = { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' } as const;
const NOT_READY_TAINT = { key: TAINT_NODE_NOT_READY, effect: 'NoSchedule' } as const;

/** spec.unschedulable (a cordoned node), unless the pod tolerates node.kubernetes.io/unschedulable. */
export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, node) {
    if (node.invalid !== undefined) return INVALID;
    if (!node.unschedulable || toleratesAny(pod.tolerations, UNSCHEDULABLE_TAINT)) return SUCCESS;
    return CORDONED;
  },
};

/**
 * A node whose Ready condition is not True; in a live cluster the node lifecycle
 * controller also taints it, this filter covers the window before it does and
 * snapshots written by hand. Pods tolerating node.kubernetes.io/not-ready may go there.
 */
export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter(pod, node) {
    if (node.ready || toleratesAny(pod.tolerations, NOT_READY_TAINT)) return SUCCESS;
    return NOT_READY;
  },
};

/** spec.nodeName set by the user: only that node. */
export const nodeName: FilterPlugin = {
  name: 'NodeName',
  filter(pod, node) {
    if (pod.nodeName === undefined || pod.nodeName === node.name) return SUCCESS;
    return OTHER_NODE;
  },
};
