/**
 * NodePorts filter: a host port (protocol, port) may be bound once per host IP;
 * 0.0.0.0 conflicts with every IP (kube-scheduler's HostPortInfo.CheckConflict).
 */

import type { FilterPlugin } from '../plugin.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';
import { Reasons, SUCCESS, unschedulable } from '../status.ts';

const ANY = '0.0.0.0';

function conflicts(node: NodeInfo, ip: string, key: string): boolean {
  if (ip === ANY) {
    for (const set of node.usedPorts.values()) if (set.has(key)) return true;
    return false;
  }
  return (node.usedPorts.get(ip)?.has(key) ?? false) || (node.usedPorts.get(ANY)?.has(key) ?? false);
}

const REFUSED = Object.freeze(unschedulable('NodePorts', Reasons.nodePorts));

function free(pod: PodInfo, node: NodeInfo): boolean {
  if (pod.hostPorts.length === 0 || node.usedPorts.size === 0) return true;
  for (const p of pod.hostPorts) {
    if (conflicts(node, p.ip, `${p.protocol}/${p.port}`)) return false;
  }
  return true;
}

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  dynamic: true,
  filter: (pod, node) => (free(pod, node) ? SUCCESS : REFUSED),
  filterMany(pod, nodes, at, count, pass) {
    if (pod.hostPorts.length === 0) pass.fill(1, 0, count);
    else for (let i = 0; i < count; i++) pass[i] = free(pod, nodes.infos[at[i] as number] as NodeInfo) ? 1 : 0;
  },
};
