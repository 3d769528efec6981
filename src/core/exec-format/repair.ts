/**
 * What to do for a pod whose container hit an exec format error, once the (digest,
 * platform) is recorded as not running: move it (through the migration path) when its
 * images, without the platforms seen not to run, still run on a platform some node of
 * the cluster has; else leave it where it is, blocked, with the reason. A pod is never
 * moved to a platform its images were seen to fail on, so moves end: each one removes a
 * platform, and when none is left the pod is blocked, not moved again.
 */
import type { Node, Pod } from '../k8s/types.ts';
import { displayPlatform } from '../placement/display.ts';
import { preparePod, type ImageLookup } from '../placement/pod-info.ts';
import { formatPlatform, nodePlatform, type Platform } from '../platform/platform.ts';
import type { BadPlatform } from './bad-platforms.ts';

export type Repair =
  | { readonly kind: 'move'; readonly platforms: readonly string[]; readonly reason: string }
  | { readonly kind: 'blocked'; readonly reason: string };

/**
 * The repair of `pod` after `bad` was recorded (or, for a pod held before and looked at
 * again, what was seen then: `seen`). `lookup` answers with the bad entries removed (the
 * image lookup service's answers); `nodes` are the cluster's nodes.
 */
export function decideRepair(pod: Pod, lookup: ImageLookup, nodes: readonly Node[], bad: BadPlatform | { readonly seen: string }): Repair {
  const seen = 'seen' in bad ? bad.seen : `${bad.image} does not run on ${bad.platform} (exec format error on node ${bad.node})`;
  const info = preparePod(pod, lookup);
  if (!info.ok) return { kind: 'blocked', reason: `${seen}; ${info.error}` };
  const platforms = new Map<string, Platform>();
  for (const n of nodes) {
    const p = nodePlatform(n);
    if (p.ok) platforms.set(formatPlatform(p.value), p.value);
  }
  const runnable = [...platforms.values()].filter((p) => info.value.platformVerdict(p) === undefined).map(displayPlatform).sort();
  if (runnable.length === 0) {
    const left = info.value.supportedPlatforms.map(displayPlatform).join(', ') || 'no platform';
    return { kind: 'blocked', reason: `${seen}; its images still run on ${left}, which no node of the cluster has` };
  }
  return { kind: 'move', platforms: runnable, reason: `${seen}: moving it to ${runnable.join(', ')}` };
}
