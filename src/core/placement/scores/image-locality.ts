/**
 * ImageLocality score (kube-scheduler's imagelocality): nodes that already have the
 * pod's images score higher, scaled by image size and by how many nodes have it (so a
 * pod does not chase an image present on a single node):
 *
 *   sum   = Σ over containers with the image on the node of size * (nodesWithImage / nodes)
 *   score = 100 * (clamp(sum, 23Mi, 1000Mi * containers) - 23Mi) / (1000Mi * containers - 23Mi)
 *
 * For polyarch the image "on the node" is the variant chosen for that node's platform
 * (its pinned reference) or the original reference.
 */

import { MAX_NODE_SCORE, type ScorePlugin } from '../plugin.ts';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

export const imageLocality: ScorePlugin = {
  name: 'ImageLocality',
  constant(_pod, snapshot) {
    return snapshot.nodesWithImages === 0 ? 0 : undefined;
  },
  score(pod, node, snapshot) {
    if (node.images.size === 0 || !node.platform || pod.images.length === 0) return 0;
    const variants = pod.variantsFor(node.platform);
    const total = snapshot.size;
    let sum = 0;
    for (let i = 0; i < pod.images.length; i++) {
      const img = pod.images[i];
      const variant = variants[i];
      for (const name of [variant?.image, img?.reference]) {
        if (name === undefined) continue;
        const size = node.images.get(name);
        if (size === undefined) continue;
        sum += Math.trunc(size * (snapshot.imageSpread(name) / total));
        break;
      }
    }
    const max = MAX_CONTAINER_THRESHOLD * pod.images.length;
    const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), max);
    return Math.floor((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
  },
};
