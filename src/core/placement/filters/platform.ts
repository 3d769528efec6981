/**
 * NodePlatform filter (polyarch's own, S2): the node's platform must run a variant of
 * every image of the pod. Verdicts are memoised per platform in the pod's cycle state.
 */

import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable } from '../status.ts';

const NO_PLATFORM = Object.freeze(unresolvable('NodePlatform', Reasons.nodeNoPlatform));

export const nodePlatformPlugin: FilterPlugin = {
  name: 'NodePlatform',
  filter(pod, node) {
    if (pod.images.length === 0) return SUCCESS;
    if (!node.platform) return NO_PLATFORM;
    return pod.platformStatus(node.platformKey, node.platform);
  },
};
