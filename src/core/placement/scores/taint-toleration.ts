/**
 * TaintToleration score: counts the PreferNoSchedule taints the pod does not tolerate
 * (tolerations with effect PreferNoSchedule or empty), then reverses: the node with the
 * most such taints gets 0, nodes with none get 100.
 */

import { toleratesTaint } from '../../k8s/taints.ts';
import { defaultNormalize, MAX_NODE_SCORE, type ScorePlugin } from '../plugin.ts';

export const preferNoScheduleTaints: ScorePlugin = {
  name: 'TaintToleration',
  score(pod, node) {
    let n = 0;
    for (const taint of node.softTaints) {
      if (!pod.tolerations.some((t) => (!t.effect || t.effect === 'PreferNoSchedule') && toleratesTaint(t, taint))) n++;
    }
    return n;
  },
  constant(_pod, snapshot) {
    // No node has a PreferNoSchedule taint: every count is 0, reversed to 100.
    return snapshot.softTaintedNodes === 0 ? MAX_NODE_SCORE : undefined;
  },
  normalize(scores, count) {
    defaultNormalize(scores, count, true);
  },
};
