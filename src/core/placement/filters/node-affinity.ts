/** NodeAffinity filter: spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution, both must match. */

import { matchNodeSelector } from '../../k8s/node-selector.ts';
import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable } from '../status.ts';

export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter(pod, node) {
    for (const [k, v] of pod.nodeSelector) if (node.labels[k] !== v) return unresolvable(this.name, Reasons.nodeAffinity);
    if (pod.requiredAffinity && !matchNodeSelector(pod.requiredAffinity, node)) return unresolvable(this.name, Reasons.nodeAffinity);
    return SUCCESS;
  },
};
