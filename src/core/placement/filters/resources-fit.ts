/**
 * NodeResourcesFit filter: the pod's effective requests must fit in what the node has
 * left (allocatable minus the requests of the pods already on it), resource by resource;
 * one reason per short resource ("Insufficient cpu"), plus "Too many pods". A request
 * larger than the node's whole allocatable cannot be resolved by evicting anything.
 * (Written without closures: it runs once per node per pod.)
 */

import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable, unschedulable } from '../status.ts';

const NAME = 'NodeResourcesFit';

export const resourcesFit: FilterPlugin = {
  name: NAME,
  dynamic: true,
  filter(pod, node) {
    const tooMany = node.podCount + 1 > node.allowedPods;
    if (!pod.hasRequests) return tooMany ? unschedulable(NAME, Reasons.tooManyPods) : SUCCESS;
    const req = pod.requests;
    const alloc = node.allocatable;
    const used = node.requested;
    const cpuShort = req.milliCPU > alloc.milliCPU - used.milliCPU;
    const memShort = req.memory > alloc.memory - used.memory;
    const ephShort = req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage;
    let scalarShort = false;
    for (const name in req.scalar) {
      if ((req.scalar[name] ?? 0) > (alloc.scalar[name] ?? 0) - (used.scalar[name] ?? 0)) scalarShort = true;
    }
    if (!tooMany && !cpuShort && !memShort && !ephShort && !scalarShort) return SUCCESS;

    const reasons: string[] = [];
    let beyondAllocatable = false;
    if (tooMany) reasons.push(Reasons.tooManyPods);
    if (cpuShort) {
      reasons.push(Reasons.insufficientCpu);
      beyondAllocatable ||= req.milliCPU > alloc.milliCPU;
    }
    if (memShort) {
      reasons.push(Reasons.insufficientMemory);
      beyondAllocatable ||= req.memory > alloc.memory;
    }
    if (ephShort) {
      reasons.push(Reasons.insufficient('ephemeral-storage'));
      beyondAllocatable ||= req.ephemeralStorage > alloc.ephemeralStorage;
    }
    for (const name in req.scalar) {
      const want = req.scalar[name] ?? 0;
      if (want > (alloc.scalar[name] ?? 0) - (used.scalar[name] ?? 0)) {
        reasons.push(Reasons.insufficient(name));
        beyondAllocatable ||= want > (alloc.scalar[name] ?? 0);
      }
    }
    return beyondAllocatable ? unresolvable(NAME, ...reasons) : unschedulable(NAME, ...reasons);
  },
};
