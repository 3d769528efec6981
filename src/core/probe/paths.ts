/**
 * How kubelet names pod and container cgroups under its two cgroup drivers. Pure: names in,
 * identities out.
 *
 * systemd:  kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
 *           kubepods.slice/kubepods-pod<uid>.slice/...            (Guaranteed pods sit directly under kubepods)
 * cgroupfs: kubepods/burstable/pod<uid>/<id>, kubepods/besteffort/pod<uid>/<id>, kubepods/pod<uid>/<id>
 */

export type CgroupDriver = 'systemd' | 'cgroupfs';
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';
export type Runtime = 'containerd' | 'crio' | 'docker' | 'unknown';

/** The directory names kubelet uses for the node-level parent of all pods. */
export const KUBEPODS_DIRS: Readonly<Record<CgroupDriver, string>> = { systemd: 'kubepods.slice', cgroupfs: 'kubepods' };

/** The QoS directory a name stands for under kubepods (Guaranteed has none). */
export function qosOfDir(name: string, driver: CgroupDriver): QosClass | undefined {
  if (driver === 'systemd') {
    if (name === 'kubepods-burstable.slice') return 'Burstable';
    if (name === 'kubepods-besteffort.slice') return 'BestEffort';
    return undefined;
  }
  if (name === 'burstable') return 'Burstable';
  if (name === 'besteffort') return 'BestEffort';
  return undefined;
}

const SYSTEMD_POD = /^kubepods(?:-(burstable|besteffort))?-pod([0-9A-Za-z_]+)\.slice$/;
const CGROUPFS_POD = /^pod([0-9A-Za-z-]+)$/;

export interface PodCgroupName {
  readonly uid: string;
  readonly qos: QosClass;
}

/** A pod's cgroup directory name; systemd escapes the uid's dashes as underscores. */
export function podOfDir(name: string, driver: CgroupDriver): PodCgroupName | undefined {
  if (driver === 'systemd') {
    const m = SYSTEMD_POD.exec(name);
    if (!m) return undefined;
    return { uid: m[2]!.replaceAll('_', '-'), qos: qosFromWord(m[1]) };
  }
  const m = CGROUPFS_POD.exec(name);
  return m ? { uid: m[1]!, qos: 'Guaranteed' } : undefined;
}

function qosFromWord(word: string | undefined): QosClass {
  return word === 'burstable' ? 'Burstable' : word === 'besteffort' ? 'BestEffort' : 'Guaranteed';
}

export interface ContainerCgroupName {
  readonly id: string;
  readonly runtime: Runtime;
}

const SCOPE = /^(cri-containerd|crio|docker)-([0-9a-f]{12,})\.scope$/;
const BARE_ID = /^(?:(crio|docker)-)?([0-9a-f]{12,})$/;

/**
 * A container's cgroup directory name, or undefined for anything else: cri-o's
 * `crio-conmon-<id>.scope` (its monitor process, not a container) and systemd's own
 * sub-directories (`init.scope`, `*.mount`) are not containers.
 */
export function containerOfDir(name: string, driver: CgroupDriver): ContainerCgroupName | undefined {
  if (driver === 'systemd') {
    const m = SCOPE.exec(name);
    if (!m) return undefined;
    return { id: m[2]!, runtime: runtimeOfPrefix(m[1]) };
  }
  const m = BARE_ID.exec(name);
  if (!m) return undefined;
  return { id: m[2]!, runtime: m[1] === undefined ? 'unknown' : runtimeOfPrefix(m[1]) };
}

function runtimeOfPrefix(prefix: string | undefined): Runtime {
  return prefix === 'cri-containerd' ? 'containerd' : prefix === 'crio' ? 'crio' : prefix === 'docker' ? 'docker' : 'unknown';
}

/**
 * The runtime id inside a Kubernetes containerID ("containerd://abc..."), the form the
 * API's containerStatuses use; matches what containerOfDir returns.
 */
export function runtimeIdOf(containerId: string): string {
  const i = containerId.indexOf('://');
  return i < 0 ? containerId : containerId.slice(i + 3);
}
