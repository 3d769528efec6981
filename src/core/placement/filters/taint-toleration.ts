/** TaintToleration filter: every NoSchedule and NoExecute taint must be tolerated. */

import { toleratesAny } from '../../k8s/taints.ts';
import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable } from '../status.ts';

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, node) {
    for (const taint of node.hardTaints) {
      if (!toleratesAny(pod.tolerations, taint)) return unresolvable(this.name, Reasons.untoleratedTaint(taint));
    }
    return SUCCESS;
  },
};
