/**
 * Reproducible layer tarballs: a layer is a set of entries keyed by path, written in
 * sorted order (parents first), every entry owned by root unless stated, with one fixed
 * modification time and modes reduced to 0755/0644 (set explicitly where they matter).
 * The same entries always give the same bytes, so the same digests.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';

export type Entry =
  | { type: 'directory'; mode: number; uid: number; gid: number }
  | { type: 'file'; mode: number; uid: number; gid: number; data: Buffer | { path: string } }
  | { type: 'symlink'; target: string };

export interface LayerBlob {
  /** sha256 of the gzip-compressed tarball (the blob). */
  readonly digest: string;
  /** sha256 of the uncompressed tarball (the config's diff_id). */
  readonly diffId: string;
  readonly size: number;
}

const clean = (p: string): string => p.split('/').filter((s) => s !== '' && s !== '.').join('/');

export class Layer {
  private readonly entries = new Map<string, Entry>();

  /** Adds an entry and any missing parent directory (0755, root). A later entry for the same path wins. */
  add(path: string, entry: Entry): this {
    const p = clean(path);
    if (p === '') return this;
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!this.entries.has(parent)) this.entries.set(parent, { type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    }
    this.entries.set(p, entry);
    return this;
  }

  file(path: string, data: Buffer | string | { path: string }, mode = 0o644, owner = { uid: 0, gid: 0 }): this {
    return this.add(path, { type: 'file', mode, ...owner, data: typeof data === 'string' ? Buffer.from(data) : data });
  }

  dir(path: string, mode = 0o755, owner = { uid: 0, gid: 0 }): this {
    return this.add(path, { type: 'directory', mode, ...owner });
  }

  symlink(path: string, target: string): this {
    return this.add(path, { type: 'symlink', target });
  }

  /**
   * A host directory tree under `prefix`: regular files (0755 if any execute bit is set,
   * else 0644), directories and symbolic links, owned by root; `skip` leaves out paths
   * (relative to `root`) and everything below them.
   */
  tree(root: string, prefix: string, skip: (rel: string) => boolean = () => false): this {
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(root, rel)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        if (skip(r)) continue;
        const full = join(root, r);
        const st = lstatSync(full);
        const dest = `${prefix}/${r}`;
        if (st.isSymbolicLink()) this.symlink(dest, readlinkSync(full));
        else if (st.isDirectory()) {
          this.dir(dest);
          walk(r);
        } else if (st.isFile()) this.file(dest, { path: full }, st.mode & 0o111 ? 0o755 : 0o644);
      }
    };
    walk('');
    return this;
  }

  has(path: string): boolean {
    return this.entries.has(clean(path));
  }

  paths(): string[] {
    return [...this.entries.keys()].sort(comparePaths);
  }

  /** Writes the gzip-compressed tarball to `file` (via a temporary name) and returns its digests. */
  async write(file: string, mtime: Date): Promise<LayerBlob> {
    const tar = tarPack();
    const diffHash = createHash('sha256');
    const blobHash = createHash('sha256');
    let size = 0;
    const tmp = `${file}.partial`;
    const done = pipeline(
      tar,
      tap((b) => diffHash.update(b)),
      // A fixed level; Node's gzip header carries no name and a zero time.
      createGzip({ level: 6 }),
      tap((b) => {
        blobHash.update(b);
        size += b.length;
      }),
      createWriteStream(tmp),
    );
    for (const name of this.paths()) {
      const e = this.entries.get(name) as Entry;
      const base = { name, mtime, uname: '', gname: '' };
      if (e.type === 'directory') await entry(tar, { ...base, name: `${name}/`, type: 'directory', mode: e.mode, uid: e.uid, gid: e.gid });
      else if (e.type === 'symlink') await entry(tar, { ...base, type: 'symlink', linkname: e.target, mode: 0o777, uid: 0, gid: 0 });
      else {
        const data = Buffer.isBuffer(e.data) ? e.data : readFileSync(e.data.path);
        await entry(tar, { ...base, type: 'file', mode: e.mode, uid: e.uid, gid: e.gid, size: data.length }, data);
      }
    }
    tar.finalize();
    await done;
    renameSync(tmp, file);
    return { digest: `sha256:${blobHash.digest('hex')}`, diffId: `sha256:${diffHash.digest('hex')}`, size };
  }
}

/** Parents before children, siblings by byte order: the order of a sorted walk. */
function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return Buffer.compare(Buffer.from(x), Buffer.from(y));
  }
  return pa.length - pb.length;
}

function entry(tar: ReturnType<typeof tarPack>, header: Parameters<ReturnType<typeof tarPack>['entry']>[0], data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (data) tar.entry(header, data, cb);
    else tar.entry(header, cb);
  });
}

function tap(onChunk: (b: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      onChunk(chunk);
      cb(null, chunk);
    },
  });
}
