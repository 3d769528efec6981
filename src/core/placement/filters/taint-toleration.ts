/** TaintToleration filter: every NoSchedule and NoExecute taint must be tolerated. */

import { toleratesAny } from '../../k8s/taints.ts';
import type { FilterPlugin } from '../plugin.ts';
import { SUCCESS } from '../status.ts';

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, node) {
    const taints = node.hardTaints;
    for (let i = 0; i < taints.length; i++) {
      if (!toleratesAny(pod.tolerations, taints[i] as (typeof taints)[number])) return node.hardTaintStatuses[i] ?? SUCCESS;
    }
    return SUCCESS;
  },
};
