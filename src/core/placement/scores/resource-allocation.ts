/**
 * Resource scores of kube-scheduler's noderesources package, over cpu and memory with
 * weight 1 each, counting the pod being placed.
 *
 * LeastAllocated (the method's default: prefer the node with the most left), per resource
 *   (allocatable - requested) * 100 / allocatable   (integer division; 0 when over)
 * averaged over resources; `requested` uses the non-zero defaults (100m, 200Mi) for
 * containers that request nothing, so empty pods still spread.
 *
 * BalancedAllocation: 100 * (1 - |cpuFraction - memoryFraction| / 2), fractions capped
 * at 1, from actual requests; prefers nodes whose cpu and memory fill up evenly.
 */

import { MAX_NODE_SCORE, type ScorePlugin } from '../plugin.ts';

function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export const leastAllocated: ScorePlugin = {
  name: 'LeastAllocated',
  dynamic: true,
  score(pod, node) {
    const alloc = node.allocatable;
    let sum = 0;
    let weights = 0;
    if (alloc.milliCPU > 0) {
      sum += leastRequested(node.nonZeroMilliCPU + pod.nonZeroMilliCPU, alloc.milliCPU);
      weights++;
    }
    if (alloc.memory > 0) {
      sum += leastRequested(node.nonZeroMemory + pod.nonZeroMemory, alloc.memory);
      weights++;
    }
    return weights === 0 ? 0 : Math.floor(sum / weights);
  },
};

export const balancedAllocation: ScorePlugin = {
  name: 'BalancedAllocation',
  dynamic: true,
  score(pod, node) {
    const alloc = node.allocatable;
    // With one of the two resources missing there is nothing to balance: std 0.
    if (alloc.milliCPU <= 0 || alloc.memory <= 0) return MAX_NODE_SCORE;
    const cpu = Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / alloc.milliCPU);
    const mem = Math.min(1, (node.requested.memory + pod.requests.memory) / alloc.memory);
    const std = Math.abs((cpu - mem) / 2);
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  },
};
