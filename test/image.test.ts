/**
 * polyarch's own image (`npm run image`, tools/image/), end to end: built from this tree
 * and pushed to the real registry (Debian's docker-registry on loopback); `polyarch
 * inspect` finds exactly its five platforms; each platform's layers, pulled back from the
 * registry and unpacked, run `polyarch --version` chrooted on a read-only root as the
 * image's non-root user, under the matching qemu-*-static for foreign architectures;
 * two builds of the same tree give the same digests; and `polyarch schedule` of deploy/'s
 * own Deployments and DaemonSet, pointed at that registry, places polyarch's pods on every
 * architecture the image has.
 *
 * Slow by nature (five root filesystems); kept cheap: Debian packages, Node.js binaries and
 * system layers are cached in ~/.cache/polyarch-image (keyed by their versions and
 * checksums; outside the work tree, so CI's fresh clones reuse them), and the compiled
 * CLI is built once into a temporary directory.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PLATFORMS, platformName } from '../tools/image/platforms.ts';
import { renderDeploy } from './support/deploy.ts';
import { startRegistry, type TestRegistry } from './support/registry.ts';
import { runInRoot, unpackLayer } from './support/rootfs.ts';

const root = join(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const REPOSITORY = 'polyarch/polyarch';
const MINUTES = 60_000;

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const polyarch = (...args: string[]) => run('node', [join(root, 'bin', 'polyarch.js'), ...args]);

/** `npm run image` without its build step: the CLI is compiled once, into `dist`. */
async function image(dist: string, out: string, ...args: string[]): Promise<string[]> {
  const r = await run('node', ['--import', 'tsx', join(root, 'tools', 'image', 'main.ts'), '--build-dir', dist, '--out', out, ...args]);
  if (r.code !== 0) throw new Error(`npm run image failed (${r.code}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return r.stdout.trim().split('\n');
}

interface Manifest { config: { digest: string }; layers: { digest: string }[] }
interface Config { architecture: string; variant?: string; config: { User: string; Entrypoint: string[]; Env: string[] } }

let reg: TestRegistry;
let dir: string;
let dist: string;
let pushed: { digest: string; ref: string };

async function pull(path: string, accept?: string): Promise<Buffer> {
  const res = await fetch(`${reg.url}/v2/${REPOSITORY}/${path}`, { headers: accept ? { accept } : {} });
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'polyarch-image-test-'));
  dist = join(dir, 'dist');
  // The build state goes with this output, not into the repository's dist/ (tsconfig.build.json).
  const tsc = await run('node', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist, '--tsBuildInfoFile', join(dist, '.tsbuildinfo')]);
  if (tsc.code !== 0) throw new Error(`tsc: ${tsc.stdout}${tsc.stderr}`);
  reg = await startRegistry();
  const [digest, ref] = await image(dist, join(dir, 'a'), '--push', `${reg.host}/${REPOSITORY}:${version}`);
  pushed = { digest: String(digest), ref: String(ref) };
}, 30 * MINUTES);

afterAll(async () => {
  await reg?.stop();
  // Five unpacked root filesystems and three layouts: slow to remove on a busy machine.
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 10 * MINUTES);

describe('npm run image', () => {
  it('pushes an index that `polyarch inspect` finds with exactly the five platforms', async () => {
    expect(pushed.ref).toBe(`${reg.host}/${REPOSITORY}@${pushed.digest}`);
    const r = await polyarch('inspect', `${reg.host}/${REPOSITORY}:${version}`, '--output', 'json');
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { source: string; platforms: { os: string; architecture: string; variant?: string }[]; warnings: string[] };
    expect(out.source).toBe('index');
    expect(out.warnings).toEqual([]);
    expect(out.platforms.map(platformName).sort()).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64/v8', 'linux/ppc64le', 'linux/s390x']);
  });

  describe.concurrent('each platform, pulled back from the registry', () => {
    it.each(PLATFORMS.map((p) => [platformName(p), p] as const))('%s: runs `polyarch --version` read-only, as a non-root user', async (name, p) => {
      const index = JSON.parse((await pull(`manifests/${version}`, 'application/vnd.oci.image.index.v1+json')).toString('utf8')) as { manifests: { digest: string; platform: { architecture: string; variant?: string } }[] };
      const entry = index.manifests.find((m) => m.platform.architecture === p.architecture && m.platform.variant === p.variant);
      expect(entry, name).toBeDefined();
      const manifest = JSON.parse((await pull(`manifests/${entry?.digest}`, 'application/vnd.oci.image.manifest.v1+json')).toString('utf8')) as Manifest;
      const config = JSON.parse((await pull(`blobs/${manifest.config.digest}`)).toString('utf8')) as Config;
      expect([config.architecture, config.variant]).toEqual([p.architecture, p.variant]);
      expect(config.config.User).not.toMatch(/^0(:|$)/);
      const rootfs = join(dir, `rootfs-${p.debianArch}`);
      mkdirSync(rootfs);
      for (const l of manifest.layers) await unpackLayer(await pull(`blobs/${l.digest}`), rootfs);
      const qemu = p.architecture === 'amd64' ? undefined : `/usr/bin/${p.qemu}`;
      const inRoot = (argv: string[]) => runInRoot(rootfs, { argv, user: config.config.User, env: config.config.Env, ...(qemu ? { qemu } : {}) });
      // The image's Node.js binary is the platform's own (and its loader and libraries are in the image).
      const node = await inRoot([String(config.config.Entrypoint[0]), '-p', 'process.arch']);
      expect(node.stderr).toBe('');
      expect(node.stdout.trim()).toBe(p.nodeArch);
      const v = await inRoot([...config.config.Entrypoint, '--version']);
      expect(v.stderr).toBe('');
      expect(v.code).toBe(0);
      expect(v.stdout.trim()).toBe(version);
    }, 20 * MINUTES);
  });

  it('gives the same digests from the same tree: the whole index, and a system layer built anew', async () => {
    const [again] = await image(dist, join(dir, 'b'));
    expect(again).toBe(pushed.digest);
    // The system layers above came from the cache; build one platform's without it.
    const ppc = PLATFORMS.find((p) => p.architecture === 'ppc64le');
    const [fresh] = await image(dist, join(dir, 'c'), '--platform', platformName(ppc!), '--no-layer-cache');
    const index = (layout: string, digest: string) => JSON.parse(readFileSync(join(dir, layout, 'blobs', 'sha256', digest.replace('sha256:', '')), 'utf8')) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const ppcOf = (layout: string, digest: string) => index(layout, digest).manifests.find((m) => m.platform.architecture === 'ppc64le')?.digest;
    expect(ppcOf('c', String(fresh))).toBeDefined();
    expect(ppcOf('c', String(fresh))).toBe(ppcOf('a', pushed.digest));
  }, 20 * MINUTES);

  it("dogfood: `polyarch schedule` of deploy/'s own workloads places polyarch on every architecture the image has", async () => {
    const objects = await renderDeploy({ image: `${reg.host}/${REPOSITORY}` });
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
    const nodes = PLATFORMS.map((p) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${p.debianArch}`, labels: { 'kubernetes.io/arch': p.architecture, 'kubernetes.io/os': 'linux', ...(p.variant ? { 'polyarch.io/arch-variant': p.variant } : {}) } },
      status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    }));
    const file = join(dir, 'dogfood.yaml');
    writeFileSync(file, [...nodes, ...workloads].map((o) => stringify(o)).join('---\n'));
    const r = await polyarch('schedule', file, '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { decisions: { pod: string; node: string | null; platform: string | null; images: Record<string, string>; reason: string }[] };
    const unplaced = out.decisions.filter((d) => d.node === null);
    expect(unplaced).toEqual([]);
    // Two replicas each of three Deployments, and one probe per node.
    expect(out.decisions.length).toBe(6 + PLATFORMS.length);
    const archOf = new Map(nodes.map((n) => [n.metadata.name, n.metadata.labels['kubernetes.io/arch']]));
    expect(new Set(out.decisions.map((d) => archOf.get(String(d.node)))).size).toBe(PLATFORMS.length);
    // Each pod runs the image variant of its node's platform, pinned by digest.
    const index = JSON.parse((await pull(`manifests/${version}`, 'application/vnd.oci.image.index.v1+json')).toString('utf8')) as { manifests: { digest: string; platform: { architecture: string } }[] };
    for (const d of out.decisions) {
      const want = index.manifests.find((m) => m.platform.architecture === archOf.get(String(d.node)))?.digest;
      expect(Object.values(d.images), d.pod).toEqual([`${reg.host}/${REPOSITORY}@${want}`]);
    }
  });
});
