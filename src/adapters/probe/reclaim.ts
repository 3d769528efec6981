/**
 * Proactive memory reclaim (cgroup v2 memory.reclaim, Linux 5.19+): the kernel reclaims up
 * to the written number of bytes from the cgroup (page cache first, then anonymous memory
 * to swap/zswap) without changing its limit. The autoscaler asks for it before lowering an
 * old generation's memory limit, so the limit is never set below what is in use.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReclaimResult } from '../../core/probe/report.ts';
import type { CgroupLayout } from './cgroup-fs.ts';

const readCurrent = (dir: string): number => {
  try {
    return Number(readFileSync(join(dir, 'memory.current'), 'latin1').trim());
  } catch {
    return Number.NaN;
  }
};

export function reclaimMemory(layout: CgroupLayout, relPath: string, bytes: number): ReclaimResult {
  if (layout.version === 'v1') {
    return { ok: false, kind: 'unsupported', message: 'cgroup v1 has no proactive reclaim (memory.reclaim is cgroup v2, Linux 5.19+); lower the limit only once usage is below it' };
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return { ok: false, kind: 'invalid', message: `bytes: expected a positive integer, got ${bytes}` };
  const dir = join(layout.base, relPath);
  const file = join(dir, 'memory.reclaim');
  if (!existsSync(dir)) return { ok: false, kind: 'gone', message: `${dir}: the cgroup is gone` };
  if (!existsSync(file)) return { ok: false, kind: 'unsupported', message: `${file}: missing; the kernel is older than 5.19 or the memory controller is off for this cgroup` };
  const before = readCurrent(dir);
  try {
    writeFileSync(file, `${bytes}`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    // The kernel answers EAGAIN when it reclaimed less than asked (documented in cgroup-v2.rst).
    if (code === 'EAGAIN') return { ok: false, kind: 'partial', message: `${file}: reclaimed less than ${bytes} bytes (EAGAIN); memory.current ${before} -> ${readCurrent(dir)}` };
    if (code === 'EROFS') return { ok: false, kind: 'read-only', message: `${file}: read-only file system; mount the host's cgroup tree read-write to allow reclaim` };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, kind: 'denied', message: `${file}: ${code}` };
    if (code === 'ENOENT') return { ok: false, kind: 'gone', message: `${dir}: the cgroup is gone` };
    return { ok: false, kind: 'error', message: `${file}: ${code}` };
  }
  return { ok: true, path: file, requestedBytes: bytes, before, after: readCurrent(dir) };
}
