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
 *
 * Each score is one function of the node's numbers, used by score() for one node and by
 * scoreMany() for the placement index's batches (NodeTable); both give integers from 0
 * to 100 (floor, trunc), hence `integral`.
 */

import type { NodeInfo, NodeTable } from '../node-info.ts';
import { MAX_NODE_SCORE, type ScorePlugin } from '../plugin.ts';

function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

function leastAllocatedOf(allocCpu: number, allocMem: number, cpu: number, mem: number): number {
  let sum = 0;
  let weights = 0;
  if (allocCpu > 0) {
    sum += leastRequested(cpu, allocCpu);
    weights++;
  }
  if (allocMem > 0) {
    sum += leastRequested(mem, allocMem);
    weights++;
  }
  return weights === 0 ? 0 : Math.floor(sum / weights);
}

function balancedAllocationOf(allocCpu: number, allocMem: number, cpuRequested: number, memRequested: number): number {
  // With one of the two resources missing there is nothing to balance: std 0.
  if (allocCpu <= 0 || allocMem <= 0) return MAX_NODE_SCORE;
  const cpu = Math.min(1, cpuRequested / allocCpu);
  const mem = Math.min(1, memRequested / allocMem);
  const std = Math.abs((cpu - mem) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export const leastAllocated: ScorePlugin = {
  name: 'LeastAllocated',
  dynamic: true,
  integral: true,
  score: (pod, node: NodeInfo) =>
    leastAllocatedOf(node.allocatable.milliCPU, node.allocatable.memory, node.nonZeroMilliCPU + pod.nonZeroMilliCPU, node.nonZeroMemory + pod.nonZeroMemory),
  scoreMany(pod, t: NodeTable, at, count, out) {
    const cpu = pod.nonZeroMilliCPU;
    const mem = pod.nonZeroMemory;
    for (let i = 0; i < count; i++) {
      const n = at[i] as number;
      out[i] = leastAllocatedOf(t.allocatableMilliCPU[n] as number, t.allocatableMemory[n] as number, (t.nonZeroMilliCPU[n] as number) + cpu, (t.nonZeroMemory[n] as number) + mem);
    }
  },
};

export const balancedAllocation: ScorePlugin = {
  name: 'BalancedAllocation',
  dynamic: true,
  integral: true,
  score: (pod, node: NodeInfo) =>
    balancedAllocationOf(node.allocatable.milliCPU, node.allocatable.memory, node.requested.milliCPU + pod.requests.milliCPU, node.requested.memory + pod.requests.memory),
  scoreMany(pod, t: NodeTable, at, count, out) {
    const cpu = pod.requests.milliCPU;
    const mem = pod.requests.memory;
    for (let i = 0; i < count; i++) {
      const n = at[i] as number;
      out[i] = balancedAllocationOf(t.allocatableMilliCPU[n] as number, t.allocatableMemory[n] as number, (t.requestedMilliCPU[n] as number) + cpu, (t.requestedMemory[n] as number) + mem);
    }
  },
};
