/**
 * ImageVariant score (polyarch's own, S3): how well the variants chosen for the node's
 * platform fit it. Each image whose variant was built for exactly the node's platform
 * counts 100, a compatible lower level (an arm/v6 image on arm/v7, x86-64-v2 on v3)
 * 50; the score is their mean. Used by the extender profile; weight 0 by default
 * elsewhere.
 */

import { samePlatform } from '../../platform/platform.ts';
import { MAX_NODE_SCORE, type ScorePlugin } from '../plugin.ts';

export const imageVariant: ScorePlugin = {
  name: 'ImageVariant',
  score(pod, node) {
    if (pod.images.length === 0 || !node.platform) return MAX_NODE_SCORE;
    const variants = pod.variantsFor(node.platform);
    if (variants.length === 0) return 0;
    let sum = 0;
    for (const v of variants) sum += samePlatform(v.platform, node.platform) ? MAX_NODE_SCORE : MAX_NODE_SCORE / 2;
    return sum / pod.images.length;
  },
};
