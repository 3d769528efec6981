/** NodeAffinity filter: spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution, both must match. */

import { matchNodeSelector } from '../../k8s/node-selector.ts';
import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable } from '../status.ts';

const REFUSED = Object.freeze(unresolvable('NodeAffinity', Reasons.nodeAffinity));

export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter(pod, node) {
    for (const [k, v] of pod.nodeSelector) if (node.labels[k] !== v) return REFUSED;
    if (pod.requiredAffinity && !matchNodeSelector(pod.requiredAffinity, node)) return REFUSED;
    return SUCCESS;
  },
};
