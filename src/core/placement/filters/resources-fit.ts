/**
 * NodeResourcesFit filter: the pod's effective requests must fit in what the node has
 * left (allocatable minus the requests of the pods already on it), resource by resource;
 * one reason per short resource ("Insufficient cpu"), plus "Too many pods". A request
 * larger than the node's whole allocatable cannot be resolved by evicting anything.
 */

import type { FilterPlugin } from '../plugin.ts';
import { Reasons, SUCCESS, unresolvable, unschedulable } from '../status.ts';

export const resourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod, node) {
    let reasons: string[] | undefined;
    let unresolvableShort = false;
    const short = (name: string, want: number, used: number, alloc: number): void => {
      if (want > alloc - used) {
        (reasons ??= []).push(Reasons.insufficient(name));
        if (want > alloc) unresolvableShort = true;
      }
    };
    if (node.podCount + 1 > node.allowedPods) (reasons ??= []).push(Reasons.tooManyPods);
    if (pod.hasRequests) {
      const req = pod.requests;
      const alloc = node.allocatable;
      const used = node.requested;
      short('cpu', req.milliCPU, used.milliCPU, alloc.milliCPU);
      short('memory', req.memory, used.memory, alloc.memory);
      short('ephemeral-storage', req.ephemeralStorage, used.ephemeralStorage, alloc.ephemeralStorage);
      for (const name in req.scalar) short(name, req.scalar[name] ?? 0, used.scalar[name] ?? 0, alloc.scalar[name] ?? 0);
    }
    if (!reasons) return SUCCESS;
    return unresolvableShort ? unresolvable(this.name, ...reasons) : unschedulable(this.name, ...reasons);
  },
};
