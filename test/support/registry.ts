/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1 with a random port, its storage and config in a temporary directory.
 *
 *   const reg = await startRegistry();                          // anonymous
 *   const reg = await startRegistry({ auth: { htpasswd: { alice: 'pw' } } });
 *   const reg = await startRegistry({ auth: { token: { alice: 'pw' } } });  // + reg.tokenServer
 *   const amd = await reg.pushImage('team/app', '1.4-amd64', 'linux/amd64');
 *   const arm = await reg.pushImage('team/app', '1.4-arm64', 'linux/arm64/v8');
 *   await reg.pushIndex('team/app', '1.4', [amd, arm], { format: 'oci', attestation: true });
 *   const { index, images } = await reg.pushMultiArch('team/web', '2.0', ['linux/amd64', 'linux/arm64/v8']);
 *   reg.host  // "127.0.0.1:PORT", for references: `${reg.host}/team/app:1.4`
 *   await reg.stop();
 *
 * Everything is pushed through the registry API (monolithic blob upload POST + PUT,
 * manifest PUT) with the configured credentials, so what the tests read is what a real
 * registry stores and serves. Reused by the registry, placement and simulator suites.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTokenServer, type TokenServer } from './token-server.ts';
import { spawnChecked, type Spawned } from './spawn.ts';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface RegistryOptions {
  /** Basic auth from an htpasswd file (bcrypt, made with `htpasswd -Bbn`), or bearer tokens from a test token server. */
  auth?: { htpasswd: Record<string, string> } | { token: Record<string, string>; anonymousActions?: string[]; realmHost?: string };
}

/** What a pushed manifest is: enough to build an index over it and to assert on it. */
export interface PushedManifest {
  readonly repository: string;
  readonly reference: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The platform written in the config (for images) as os/arch[/variant]. */
  readonly platform?: string;
}

export interface PushImageOptions {
  format?: 'oci' | 'docker';
  /** Config fields to write instead of those of `platform` (a tag whose config contradicts its name). */
  config?: Record<string, unknown>;
}

export interface PushIndexOptions {
  format?: 'oci' | 'docker';
  /** Add a buildx-style attestation entry (unknown/unknown + vnd.docker.reference.type). */
  attestation?: boolean;
  /** Platforms to write in the index instead of the entries' own (os/arch[/variant]). */
  platforms?: (string | undefined)[];
}

export interface TestRegistry {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly tokenServer: TokenServer | undefined;
  /** A credential that can push and pull (when auth is configured). */
  readonly user: { username: string; password: string } | undefined;
  pushBlob(repository: string, data: Buffer | string): Promise<string>;
  pushManifest(repository: string, reference: string, body: string, mediaType: string): Promise<PushedManifest>;
  pushImage(repository: string, tag: string | undefined, platform: string, options?: PushImageOptions): Promise<PushedManifest>;
  pushIndex(repository: string, tag: string, entries: readonly PushedManifest[], options?: PushIndexOptions): Promise<PushedManifest>;
  /** One image per platform (untagged) and an index over them tagged `tag`. */
  pushMultiArch(repository: string, tag: string, platforms: readonly string[], options?: PushIndexOptions): Promise<{ index: PushedManifest; images: PushedManifest[] }>;
  stop(): Promise<void>;
}

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function splitPlatform(p: string): { os: string; architecture: string; variant?: string } {
  const [os = 'linux', architecture = 'amd64', variant] = p.split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'polyarch-registry-'));
  let tokenServer: TokenServer | undefined;
  let user: TestRegistry['user'];
  let authYaml = '';
  if (options.auth && 'htpasswd' in options.auth) {
    const lines = Object.entries(options.auth.htpasswd).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
    writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: polyarch-test\n    path: ${join(dir, 'htpasswd')}\n`;
    const [u, p] = Object.entries(options.auth.htpasswd)[0] ?? [];
    if (u !== undefined && p !== undefined) user = { username: u, password: p };
  } else if (options.auth && 'token' in options.auth) {
    tokenServer = await startTokenServer({ users: options.auth.token, anonymousActions: options.auth.anonymousActions, ...(options.auth.realmHost ? { host: options.auth.realmHost } : {}) });
    writeFileSync(join(dir, 'token-ca.pem'), tokenServer.certificatePem);
    authYaml = `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: ${tokenServer.service}\n    issuer: ${tokenServer.issuer}\n    rootcertbundle: ${join(dir, 'token-ca.pem')}\n`;
    const [u, p] = Object.entries(options.auth.token)[0] ?? [];
    if (u !== undefined && p !== undefined) user = { username: u, password: p };
  }

  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const config = [
      'version: 0.1',
      'log:\n  level: error\n  accesslog:\n    disabled: true',
      `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true`,
      `http:\n  addr: 127.0.0.1:${port}\n  secret: polyarch-test-secret`,
      authYaml,
    ].join('\n');
    writeFileSync(join(dir, 'config.yml'), config);
    const started = spawnChecked(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const proc = started.proc;
    proc.stderr?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-4000);
    });
    if (await waitReady(port, started)) child = proc;
    else proc.kill('SIGKILL');
  }
  if (!child) {
    await tokenServer?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const proc = child;
  const url = `http://127.0.0.1:${port}`;
  const auth = new PushAuth(user, tokenServer);

  const call = async (method: string, path: string, scope: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Response> => {
    const target = path.startsWith('http') ? path : `${url}${path}`;
    const send = async (): Promise<Response> => fetch(target, { method, body: init.body, headers: { ...init.headers, ...(await auth.header(scope)) }, redirect: 'manual' });
    let res = await send();
    if (res.status === 401 && auth.challenge(res.headers.get('www-authenticate'))) res = await send();
    return res;
  };

  const reg: TestRegistry = {
    host: `127.0.0.1:${port}`,
    port,
    url,
    dir,
    tokenServer,
    user,
    async pushBlob(repository, data) {
      const digest = sha256(data);
      const scope = `repository:${repository}:pull,push`;
      const start = await call('POST', `/v2/${repository}/blobs/uploads/`, scope);
      if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status} ${await start.text()}`);
      const location = new URL(start.headers.get('location') ?? '', url);
      location.searchParams.set('digest', digest);
      const put = await call('PUT', location.toString(), scope, { body: data, headers: { 'content-type': 'application/octet-stream' } });
      if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
      return digest;
    },
    async pushManifest(repository, reference, body, mediaType) {
      const res = await call('PUT', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull,push`, { body, headers: { 'content-type': mediaType } });
      if (res.status !== 201) throw new Error(`manifest put ${repository}:${reference}: HTTP ${res.status} ${await res.text()}`);
      const digest = sha256(body);
      const served = res.headers.get('docker-content-digest');
      if (served && served !== digest) throw new Error(`registry says ${served}, body hashes to ${digest}`);
      return { repository, reference, digest, mediaType, size: Buffer.byteLength(body) };
    },
    async pushImage(repository, tag, platform, opts = {}) {
      const oci = (opts.format ?? 'oci') === 'oci';
      const layer = Buffer.from(`layer of ${repository}:${tag ?? ''} for ${platform}\n`);
      const layerDigest = await reg.pushBlob(repository, layer);
      const config = JSON.stringify({
        ...(opts.config ?? splitPlatform(platform)),
        created: '2026-01-01T00:00:00Z',
        rootfs: { type: 'layers', diff_ids: [layerDigest] },
        config: {},
      });
      const configDigest = await reg.pushBlob(repository, config);
      const mediaType = oci ? MEDIA.ociManifest : MEDIA.dockerManifest;
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: oci ? MEDIA.ociConfig : MEDIA.dockerConfig, digest: configDigest, size: Buffer.byteLength(config) },
        layers: [{ mediaType: oci ? MEDIA.ociLayer : MEDIA.dockerLayer, digest: layerDigest, size: layer.length }],
      });
      const pushed = await reg.pushManifest(repository, tag ?? sha256(body), body, mediaType);
      return { ...pushed, platform };
    },
    async pushIndex(repository, tag, entries, opts = {}) {
      const oci = (opts.format ?? 'oci') === 'oci';
      const manifests: object[] = entries.map((e, i) => {
        const p = opts.platforms?.[i] ?? e.platform;
        return { mediaType: e.mediaType, digest: e.digest, size: e.size, ...(p ? { platform: splitPlatform(p) } : {}) };
      });
      if (opts.attestation && entries[0]) {
        // buildx writes provenance as an OCI manifest whose platform is unknown/unknown.
        const att = await reg.pushImage(repository, undefined, 'unknown/unknown', { format: 'oci', config: { architecture: 'unknown', os: 'unknown' } });
        manifests.push({
          mediaType: att.mediaType,
          digest: att.digest,
          size: att.size,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': entries[0].digest },
        });
      }
      const mediaType = oci ? MEDIA.ociIndex : MEDIA.dockerList;
      return reg.pushManifest(repository, tag, JSON.stringify({ schemaVersion: 2, mediaType, manifests }), mediaType);
    },
    async pushMultiArch(repository, tag, platforms, opts = {}) {
      const images: PushedManifest[] = [];
      for (const p of platforms) images.push(await reg.pushImage(repository, undefined, p, { format: opts.format }));
      return { index: await reg.pushIndex(repository, tag, images, opts), images };
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      await tokenServer?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return reg;
}

/** Listening within 10 s: true; exited (port taken, say): false; could not be started at all: throws at once. */
async function waitReady(port: number, started: Spawned): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const failed = started.failure();
    if (failed) throw new Error(`${failed.message} (the Debian docker-registry package provides it)`);
    if (started.proc.exitCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The pusher's own small auth (deliberately not the client under test). */
class PushAuth {
  private scheme: 'basic' | 'bearer' | undefined;
  private readonly tokens = new Map<string, string>();
  constructor(
    private readonly user: TestRegistry['user'],
    private readonly tokenServer: TokenServer | undefined,
  ) {}

  challenge(header: string | null): boolean {
    if (!this.user || !header || this.scheme) return false;
    this.scheme = /^bearer/i.test(header) ? 'bearer' : 'basic';
    return true;
  }

  async header(scope: string): Promise<Record<string, string>> {
    if (!this.user || !this.scheme) return {};
    const basic = `Basic ${Buffer.from(`${this.user.username}:${this.user.password}`).toString('base64')}`;
    if (this.scheme === 'basic' || !this.tokenServer) return { authorization: basic };
    let token = this.tokens.get(scope);
    if (!token) {
      const u = new URL(this.tokenServer.realm);
      u.searchParams.set('service', this.tokenServer.service);
      u.searchParams.set('scope', scope);
      const res = await fetch(u, { headers: { authorization: basic } });
      token = ((await res.json()) as { token: string }).token;
      this.tokens.set(scope, token);
    }
    return { authorization: `Bearer ${token}` };
  }
}
