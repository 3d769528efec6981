/**
 * An image's root filesystem on disk, and a command run inside it the way a container
 * runtime with `readOnlyRootFilesystem: true` would: its layers (gzip tarballs) unpacked
 * in order with their modes and owners, then `chroot` into a read-only bind mount of it
 * (in a private mount namespace, `unshare -m`) with /proc mounted, as the image's user.
 * A foreign architecture's program runs under the matching qemu-*-static, bind-mounted
 * into the root. Needs root (CI and this machine run tests as root).
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/** Unpacks one gzip-compressed layer tarball into `root` (whiteouts are not expected in polyarch's image and fail). */
export async function unpackLayer(tgz: Buffer, root: string): Promise<void> {
  // A runtime's root directory: 0755, whatever made the directory (mkdtemp makes 0700).
  chmodSync(root, 0o755);
  const ex = extract();
  ex.on('entry', (h, stream, next) => {
    const name = normalize(h.name).replace(/\/$/, '');
    if (name.startsWith('..') || name.startsWith('/')) return next(new Error(`layer entry "${h.name}" leaves the root`));
    if (name.split('/').some((s) => s.startsWith('.wh.'))) return next(new Error(`layer entry "${h.name}" is a whiteout`));
    const dest = join(root, name);
    const chunks: Buffer[] = [];
    stream.on('data', (b: unknown) => chunks.push(b as Buffer));
    stream.on('end', () => {
      try {
        mkdirSync(dirname(dest), { recursive: true });
        if (h.type === 'directory') {
          mkdirSync(dest, { recursive: true });
          chmodSync(dest, h.mode ?? 0o755);
          chownSync(dest, h.uid ?? 0, h.gid ?? 0);
        } else if (h.type === 'symlink') {
          rmSync(dest, { force: true });
          symlinkSync(h.linkname ?? '', dest);
          lchownSync(dest, h.uid ?? 0, h.gid ?? 0);
        } else if (h.type === 'file') {
          rmSync(dest, { force: true });
          writeFileSync(dest, Buffer.concat(chunks));
          chmodSync(dest, h.mode ?? 0o644);
          chownSync(dest, h.uid ?? 0, h.gid ?? 0);
        } else throw new Error(`layer entry "${h.name}" has type ${h.type}, which polyarch's image does not use`);
        next();
      } catch (err) {
        next(err as Error);
      }
    });
  });
  await pipeline(Readable.from([tgz]), createGunzip(), ex);
}

export interface RunInRoot {
  /** The image's Entrypoint followed by the arguments. */
  argv: string[];
  /** The image's User, "uid:gid". */
  user: string;
  /** Absolute path of the qemu-*-static binary for a foreign architecture. */
  qemu?: string;
  /** The image's Env ("NAME=value"): the whole environment of the command. */
  env: string[];
}

/** Runs `argv` inside `root` (read-only, chrooted, as `user`); resolves with the exit code and output. */
export function runInRoot(root: string, o: RunInRoot): Promise<{ code: number; stdout: string; stderr: string }> {
  mkdirSync(join(root, 'proc'), { recursive: true });
  if (o.qemu) writeFileSync(join(root, '.qemu'), '');
  const script = [
    'set -eu',
    'mount --bind "$ROOT" "$ROOT"',
    'mount -o remount,bind,ro "$ROOT"',
    'mount -t proc proc "$ROOT/proc"',
    ...(o.qemu ? ['mount --bind "$QEMU" "$ROOT/.qemu"'] : []),
    'exec "$@"',
  ].join('\n');
  // The image's environment only, then chroot as the image's user.
  const command = ['/usr/bin/env', '-i', ...o.env, '/usr/sbin/chroot', `--userspec=${o.user}`, root, ...(o.qemu ? ['/.qemu'] : []), ...o.argv];
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ROOT: root, QEMU: o.qemu ?? '' };
  return new Promise((resolve) => {
    execFile('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...command], { env, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
