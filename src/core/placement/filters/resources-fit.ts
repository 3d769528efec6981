/**
 * NodeResourcesFit filter: the pod's effective requests must fit in what the node has
 * left (allocatable minus the requests of the pods already on it), resource by resource;
 * one reason per short resource ("Insufficient cpu"), plus "Too many pods". A request
 * larger than the node's whole allocatable cannot be resolved by evicting anything.
 * (Written without closures: it runs once per node per pod. `fits` is the verdict, for
 * one node and for the placement index's batches; the reasons are built only for a
 * node that does not fit.)
 */

import type { NodeInfo } from '../node-info.ts';
import type { FilterPlugin } from '../plugin.ts';
import type { PodInfo } from '../pod-info.ts';
import { Reasons, SUCCESS, unresolvable, unschedulable } from '../status.ts';

const NAME = 'NodeResourcesFit';

/** The verdict from the node's numbers; `node` is read only for the pod's scalar resources. */
function fits(
  pod: PodInfo, podCount: number, allowedPods: number, allocCpu: number, usedCpu: number, allocMem: number, usedMem: number, allocEph: number, usedEph: number, node: NodeInfo,
): boolean {
  if (podCount + 1 > allowedPods) return false;
  if (!pod.hasRequests) return true;
  const req = pod.requests;
  if (req.milliCPU > allocCpu - usedCpu || req.memory > allocMem - usedMem || req.ephemeralStorage > allocEph - usedEph) return false;
  const scalar = pod.scalarRequests;
  for (let i = 0; i < scalar.length; i++) {
    const name = scalar[i] as string;
    if ((req.scalar[name] ?? 0) > (node.allocatable.scalar[name] ?? 0) - (node.requested.scalar[name] ?? 0)) return false;
  }
  return true;
}

const fitsOn = (pod: PodInfo, node: NodeInfo): boolean =>
  fits(pod, node.podCount, node.allowedPods, node.allocatable.milliCPU, node.requested.milliCPU, node.allocatable.memory, node.requested.memory, node.allocatable.ephemeralStorage, node.requested.ephemeralStorage, node);

export const resourcesFit: FilterPlugin = {
  name: NAME,
  dynamic: true,
  filter(pod, node) {
    if (fitsOn(pod, node)) return SUCCESS;
    const tooMany = node.podCount + 1 > node.allowedPods;
    if (!pod.hasRequests) return unschedulable(NAME, Reasons.tooManyPods);
    const req = pod.requests;
    const alloc = node.allocatable;
    const used = node.requested;
    const reasons: string[] = [];
    let beyondAllocatable = false;
    if (tooMany) reasons.push(Reasons.tooManyPods);
    if (req.milliCPU > alloc.milliCPU - used.milliCPU) {
      reasons.push(Reasons.insufficientCpu);
      beyondAllocatable ||= req.milliCPU > alloc.milliCPU;
    }
    if (req.memory > alloc.memory - used.memory) {
      reasons.push(Reasons.insufficientMemory);
      beyondAllocatable ||= req.memory > alloc.memory;
    }
    if (req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
      reasons.push(Reasons.insufficient('ephemeral-storage'));
      beyondAllocatable ||= req.ephemeralStorage > alloc.ephemeralStorage;
    }
    for (const name of pod.scalarRequests) {
      const want = req.scalar[name] ?? 0;
      if (want > (alloc.scalar[name] ?? 0) - (used.scalar[name] ?? 0)) {
        reasons.push(Reasons.insufficient(name));
        beyondAllocatable ||= want > (alloc.scalar[name] ?? 0);
      }
    }
    return beyondAllocatable ? unresolvable(NAME, ...reasons) : unschedulable(NAME, ...reasons);
  },
  filterMany(pod, t, at, count, pass) {
    for (let i = 0; i < count; i++) {
      const n = at[i] as number;
      const ok = fits(
        pod, t.podCount[n] as number, t.allowedPods[n] as number, t.allocatableMilliCPU[n] as number, t.requestedMilliCPU[n] as number, t.allocatableMemory[n] as number,
        t.requestedMemory[n] as number, t.allocatableEphemeralStorage[n] as number, t.requestedEphemeralStorage[n] as number, t.infos[n] as NodeInfo,
      );
      pass[i] = ok ? 1 : 0;
    }
  },
};
