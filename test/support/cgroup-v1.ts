/**
 * Real cgroup v1 hierarchies for tests: creates a kubelet-like cgroupfs tree
 * (kubepods/burstable/pod<uid>/<id>) beneath this process's own cgroup in each controller's
 * hierarchy (so whatever limits the machine puts on this process also hold for the test's
 * children), and removes it afterwards.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const V1_ROOT = '/sys/fs/cgroup';
export type V1Controller = 'memory' | 'cpuacct' | 'cpu' | 'blkio';

/** The mount directory of a controller and this process's cgroup path in it. */
export function ownV1Cgroup(controller: V1Controller): { mount: string; path: string } | undefined {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, list, path] = line.split(':');
    if (list === undefined || path === undefined) continue;
    const names = list.split(',');
    if (!names.includes(controller)) continue;
    const mount = join(V1_ROOT, list);
    if (existsSync(mount)) return { mount, path };
    const alone = join(V1_ROOT, controller);
    if (existsSync(alone)) return { mount: alone, path };
  }
  return undefined;
}

/** Why real cgroup v1 with these controllers is not usable here, or undefined when it is. */
export function v1Unavailable(needed: readonly V1Controller[] = ['memory', 'cpuacct', 'cpu', 'blkio']): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (existsSync(join(V1_ROOT, 'cgroup.controllers'))) return `${V1_ROOT} is cgroup v2`;
  const missing = needed.filter((c) => !ownV1Cgroup(c));
  if (missing.length > 0) return `no cgroup v1 ${missing.join(', ')} controller mounted under ${V1_ROOT}`;
  return undefined;
}

export interface V1Tree {
  /** Per controller, the directory that plays the node's cgroup root (holds kubepods). */
  readonly bases: Record<V1Controller, string | undefined>;
  /** kubepods/burstable/pod<uid>/<id> */
  readonly containerRel: string;
  containerDir(controller: V1Controller): string | undefined;
  /** Moves a process into the container's cgroup in every hierarchy. */
  enter(pid: number): void;
  write(controller: V1Controller, file: string, value: string): void;
  /** rmdir from the leaves up (the processes must have exited). */
  remove(): void;
}

export function makeV1Tree(name: string, podUid: string, containerId: string): V1Tree {
  const rel = `kubepods/burstable/pod${podUid}/${containerId}`;
  const bases = {} as Record<V1Controller, string | undefined>;
  const made: string[] = [];
  for (const c of ['memory', 'cpuacct', 'cpu', 'blkio'] as const) {
    const own = ownV1Cgroup(c);
    if (!own) {
      bases[c] = undefined;
      continue;
    }
    const base = join(own.mount, own.path, name);
    bases[c] = base;
    if (made.includes(base)) continue; // co-mounted controllers share a directory
    let dir = base;
    mkdirSync(dir);
    made.push(dir);
    for (const part of rel.split('/')) {
      dir = join(dir, part);
      mkdirSync(dir);
      made.push(dir);
    }
  }
  const containerDir = (c: V1Controller): string | undefined => (bases[c] ? join(bases[c]!, rel) : undefined);
  return {
    bases,
    containerRel: rel,
    containerDir,
    enter(pid) {
      for (const c of ['memory', 'cpuacct', 'cpu', 'blkio'] as const) {
        const d = containerDir(c);
        if (d) writeFileSync(join(d, 'cgroup.procs'), String(pid));
      }
    },
    write(c, file, value) {
      const d = containerDir(c);
      if (!d) throw new Error(`no ${c} hierarchy`);
      writeFileSync(join(d, file), value);
    },
    remove() {
      for (const dir of [...made].reverse()) {
        try {
          rmdirSync(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    },
  };
}
