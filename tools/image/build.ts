/**
 * polyarch's multi-architecture image, built without a container runtime: per platform
 * a "system" layer (Debian's libc6, libstdc++6, libgcc-s1 and ca-certificates of that
 * architecture, the official Node.js binary, a non-root user) and an "app" layer (the
 * compiled polyarch and its production dependencies), one image config and manifest per
 * platform, and an OCI image index over them, written as an OCI layout.
 *
 * Reproducible: every tar entry has the same time (SOURCE_DATE_EPOCH, default 0), root
 * ownership and normalised modes, entries are sorted, JSON is written in a fixed key
 * order, so the same inputs give the same digests. System layers are cached under the
 * cache directory keyed by their inputs (package checksums, Node's integrity, this
 * builder's source); `layerCache: false` builds them anew.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Layer, type LayerBlob } from './layer.ts';
import { Layout, MEDIA, type Descriptor } from './oci.ts';
import { APP_DIR, ARCH_ALL_PACKAGES, BUILD_DIR, COMMON_PACKAGES, ENTRY, IMAGE_USER, NODE_PATH, PLATFORMS, platformName, type ImagePlatform } from './platforms.ts';
import { debianPackages, nodeBinary, unpackDeb } from './sources.ts';

export interface BuildOptions {
  /** The repository root: package.json, package-lock.json, node_modules, examples/. */
  root: string;
  /** The compiled CLI (tsc's outDir, with main.js), packaged as /app/dist. */
  buildDir: string;
  /** Where the OCI layout is written (emptied first). */
  outDir: string;
  /** Downloads and cached system layers. */
  cacheDir: string;
  /** Seconds since the epoch for every timestamp (SOURCE_DATE_EPOCH). */
  epoch: number;
  /** Tag recorded in the layout's index.json. */
  tag: string;
  platforms?: readonly ImagePlatform[];
  layerCache?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  readonly layout: Layout;
  readonly index: Descriptor;
  readonly manifests: readonly { platform: string; descriptor: Descriptor; layers: readonly LayerBlob[] }[];
}

const here = dirname(fileURLToPath(import.meta.url));

const SYSTEM_LAYER_CODE = ['build.ts', 'layer.ts', 'sources.ts'];

/** Paths of Debian packages an image never uses: documentation, translations, iconv modules. */
const SYSTEM_SKIP = [/^usr\/share\/(doc|man|info|locale|lintian|bug)(\/|$)/, /^usr\/lib\/[^/]+\/gconv(\/|$)/];

export async function buildImage(o: BuildOptions): Promise<BuiltImage> {
  const log = o.log ?? (() => undefined);
  const platforms = o.platforms ?? PLATFORMS;
  const mtime = new Date(o.epoch * 1000);
  rmSync(o.outDir, { recursive: true, force: true });
  const layout = new Layout(o.outDir);
  const pkg = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { name: string; version: string };
  const main = join(o.buildDir, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build polyarch first (npm run build)`);
  // The code that writes system layers (the platform table's rows and constants go into the key as values).
  const builderHash = createHash('sha256');
  for (const f of SYSTEM_LAYER_CODE) builderHash.update(readFileSync(join(here, f)));
  const builder = builderHash.digest('hex');
  const appLayers = new Map<string, LayerBlob>();
  const manifests: { platform: string; descriptor: Descriptor; layers: LayerBlob[] }[] = [];

  for (const p of platforms) {
    const name = platformName(p);
    log(`${name}: system layer`);
    const system = await systemLayer(p, o, layout, mtime, builder, log);
    const deps = productionDependencies(o.root, p);
    const key = deps.join('\n');
    let app = appLayers.get(key);
    if (!app) {
      log(`${name}: app layer (${deps.length} production packages)`);
      app = await writeLayer(layout, appLayer(o, deps), mtime);
      appLayers.set(key, app);
    }
    const layers = [system, app];
    const platform = { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) };
    const config = layout.json(MEDIA.config, {
      created: mtime.toISOString(),
      ...platform,
      config: {
        User: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'],
        Entrypoint: [`/${NODE_PATH}`, `/${APP_DIR}/${ENTRY}`],
        WorkingDir: `/${APP_DIR}`,
        Labels: { 'org.opencontainers.image.title': pkg.name, 'org.opencontainers.image.version': pkg.version, 'org.opencontainers.image.licenses': 'Apache-2.0' },
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    });
    const manifest = layout.json(MEDIA.manifest, {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config,
      layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
    });
    manifests.push({ platform: name, descriptor: { ...manifest, platform }, layers });
  }
  const index = layout.json(MEDIA.index, { schemaVersion: 2, mediaType: MEDIA.index, manifests: manifests.map((m) => m.descriptor) });
  layout.finish(index, o.tag);
  return { layout, index, manifests };
}

async function writeLayer(layout: Layout, layer: Layer, mtime: Date): Promise<LayerBlob> {
  const tmp = join(layout.dir, 'blobs', `layer.${process.pid}.tmp`);
  const blob = await layer.write(tmp, mtime);
  const dest = layout.blobPath(blob.digest);
  if (!existsSync(dest)) copyFileSync(tmp, dest);
  rmSync(tmp);
  return blob;
}

async function systemLayer(p: ImagePlatform, o: BuildOptions, layout: Layout, mtime: Date, builder: string, log: (l: string) => void): Promise<LayerBlob> {
  const debs = await debianPackages(o.cacheDir, [...[...COMMON_PACKAGES, ...p.extraPackages].map((n) => `${n}:${p.debianArch}`), ...ARCH_ALL_PACKAGES]);
  const node = await nodeBinary(o.cacheDir, p.nodePackage, p.nodeVersion);
  const key = createHash('sha256')
    .update(JSON.stringify({ platform: p, user: IMAGE_USER, node_path: NODE_PATH, debs: debs.map((d) => [d.name, d.sha256]).sort(), node: node.integrity, epoch: o.epoch, builder }))
    .digest('hex');
  const cached = join(o.cacheDir, 'layers', `${key}.json`);
  if (o.layerCache !== false && existsSync(cached)) {
    const blob = JSON.parse(readFileSync(cached, 'utf8')) as LayerBlob;
    const file = join(o.cacheDir, 'layers', blob.digest.replace(/^sha256:/, ''));
    if (existsSync(file)) {
      log(`  cached ${blob.digest}`);
      copyFileSync(file, layout.blobPath(blob.digest));
      return blob;
    }
  }
  const root = mkdtempSync(join(tmpdir(), 'polyarch-rootfs-'));
  try {
    for (const d of debs) await unpackDeb(d, root);
    const layer = new Layer().tree(root, '', (rel) => SYSTEM_SKIP.some((re) => re.test(rel)));
    // update-ca-certificates' bundle (the package's maintainer script is not run here).
    const certs = join(root, 'usr/share/ca-certificates');
    const pems = listFiles(certs).filter((f) => f.endsWith('.crt')).sort();
    if (pems.length === 0) throw new Error('ca-certificates: no certificates under usr/share/ca-certificates');
    layer.file('etc/ssl/certs/ca-certificates.crt', Buffer.concat(pems.map((f) => readFileSync(join(certs, f)))));
    for (const [path, target] of p.links) layer.symlink(path, target);
    layer.file(NODE_PATH, { path: node.path }, 0o755);
    layer.file('etc/passwd', `root:x:0:0:root:/root:/sbin/nologin\n${IMAGE_USER.name}:x:${IMAGE_USER.uid}:${IMAGE_USER.gid}:${IMAGE_USER.name}:/${IMAGE_USER.home}:/sbin/nologin\n`);
    layer.file('etc/group', `root:x:0:\n${IMAGE_USER.name}:x:${IMAGE_USER.gid}:\n`);
    layer.dir('tmp', 0o1777);
    layer.dir('root', 0o700);
    layer.dir(IMAGE_USER.home, 0o700, { uid: IMAGE_USER.uid, gid: IMAGE_USER.gid });
    const blob = await writeLayer(layout, layer, mtime);
    mkdirSync(join(o.cacheDir, 'layers'), { recursive: true });
    // Written under a name of this process's own, then renamed: concurrent builds share the cache.
    const file = join(o.cacheDir, 'layers', blob.digest.replace(/^sha256:/, ''));
    copyFileSync(layout.blobPath(blob.digest), `${file}.${process.pid}`);
    renameSync(`${file}.${process.pid}`, file);
    writeFileSync(`${cached}.${process.pid}`, JSON.stringify(blob));
    renameSync(`${cached}.${process.pid}`, cached);
    return blob;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function listFiles(dir: string, rel = ''): string[] {
  if (!existsSync(join(dir, rel))) return [];
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, r) : e.isFile() ? [r] : [];
  });
}

/**
 * The installed production dependencies (`npm ls --omit=dev`), as paths under
 * node_modules, without packages whose `os`/`cpu` exclude the platform (another CPU's
 * prebuilt binary).
 */
export function productionDependencies(root: string, p: ImagePlatform): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const fits = (list: unknown, value: string): boolean => {
    if (!Array.isArray(list) || list.length === 0) return true;
    const names = list.map(String);
    if (names.some((n) => n.startsWith('!'))) return !names.includes(`!${value}`);
    return names.includes(value);
  };
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => relative(join(root, 'node_modules'), l))
    .filter((r) => r !== '' && !r.startsWith('..'))
    .filter((r) => {
      const meta = JSON.parse(readFileSync(join(root, 'node_modules', r, 'package.json'), 'utf8')) as { os?: unknown; cpu?: unknown };
      return fits(meta.os, p.os) && fits(meta.cpu, p.nodeArch);
    })
    .sort();
}

function appLayer(o: BuildOptions, deps: readonly string[]): Layer {
  const layer = new Layer();
  const app = APP_DIR;
  const pkg = readFileSync(join(o.root, 'package.json'));
  layer.file(`${app}/package.json`, pkg);
  // The package's own commands (bin/polyarch.js), as npm installs them.
  const bins = (JSON.parse(pkg.toString('utf8')) as { bin?: Record<string, string> }).bin ?? {};
  for (const b of Object.values(bins).sort()) layer.file(`${app}/${b}`, { path: join(o.root, b) }, 0o755);
  layer.tree(o.buildDir, `${app}/${BUILD_DIR}`, (rel) => rel.endsWith('.tsbuildinfo'));
  // The default scenario of `polyarch simulate`.
  layer.tree(join(o.root, 'examples'), `${app}/examples`);
  for (const d of deps) {
    // Nested node_modules are listed as packages of their own (or left out as dev-only).
    layer.tree(join(o.root, 'node_modules', d), `${app}/node_modules/${d}`, (rel) => rel === 'node_modules' || rel.startsWith('node_modules/'));
  }
  return layer;
}
