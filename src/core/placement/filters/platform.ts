/**
 * NodePlatform filter (polyarch's own, S2): the node's platform must run a variant of
 * every image of the pod. Verdicts are memoised per platform in the pod's cycle state.
 */

import type { FilterPlugin } from '../plugin.ts';
import { formatPlatforms } from '../pod-info.ts';
import { Reasons, SUCCESS, unresolvable } from '../status.ts';

export const nodePlatform: FilterPlugin = {
  name: 'NodePlatform',
  filter(pod, node) {
    if (pod.images.length === 0) return SUCCESS;
    if (!node.platform) return unresolvable(this.name, Reasons.nodeNoPlatform);
    const bad = pod.platformVerdict(node.platform);
    return bad === undefined ? SUCCESS : unresolvable(this.name, Reasons.platform(bad.original, formatPlatforms(bad.platforms)));
  },
};
