/** NodeAffinity score: the sum of the weights of the preferred terms a node matches, normalised so the best node has 100. */

import { matchTerm } from '../../k8s/node-selector.ts';
import { defaultNormalize, type ScorePlugin } from '../plugin.ts';

export const preferredNodeAffinity: ScorePlugin = {
  name: 'NodeAffinity',
  score(pod, node) {
    let sum = 0;
    for (const t of pod.preferredAffinity) if (t.weight !== 0 && matchTerm(t.preference, node)) sum += t.weight;
    return sum;
  },
  constant(pod) {
    return pod.preferredAffinity.length === 0 ? 0 : undefined;
  },
  normalize(scores, count) {
    defaultNormalize(scores, count, false);
  },
};
