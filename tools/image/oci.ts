/**
 * An OCI image layout on disk (oci-layout, index.json, blobs/sha256/...) and its upload
 * to a registry over the distribution API: blobs the registry lacks (HEAD, then a
 * monolithic POST + PUT), each platform's manifest by digest, the index by tag.
 * Authentication: none, Basic, or a bearer token from the registry's realm, with the
 * credentials of Docker's config.json for the registry's host when there are some.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseReference, type ImageReference } from '../../src/core/image/reference.ts';
import { parseChallenge, type Challenge } from '../../src/adapters/registry/auth.ts';
import { findCredential, loadAuthFile, type Credential } from '../../src/adapters/registry/credentials.ts';
import { schemeFor } from '../../src/adapters/registry/http.ts';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export const digestOf = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export class Layout {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  }

  /** Stores JSON (compact, keys in the order given) as a blob and returns its descriptor. */
  json(mediaType: string, value: unknown): Descriptor {
    const data = Buffer.from(JSON.stringify(value));
    const digest = digestOf(data);
    writeFileSync(this.blobPath(digest), data);
    return { mediaType, digest, size: data.length };
  }

  /** Writes oci-layout and index.json naming the image index under `tag`. */
  finish(index: Descriptor, tag: string): void {
    writeFileSync(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const top = { schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...index, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
    writeFileSync(join(this.dir, 'index.json'), `${JSON.stringify(top, null, 2)}\n`);
  }
}

export interface PushOptions {
  /** Docker config files to take credentials from (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json). */
  authFiles?: string[];
  /** Hosts reached over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
}

/** Uploads the image index `index` of `layout` (and everything it names) as `ref`; returns the pushed reference pinned by digest. */
export async function pushLayout(layout: Layout, index: Descriptor, ref: string, options: PushOptions = {}): Promise<string> {
  const parsed = parseReference(ref);
  if (!parsed.ok) throw new Error(`--push: ${parsed.error}`);
  const r = parsed.value;
  if (r.tag === undefined || r.digest !== undefined) throw new Error(`--push: "${ref}" must name a tag (REGISTRY/REPOSITORY:TAG)`);
  const files = options.authFiles ?? [join(process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json')];
  const configs = [];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const c = await loadAuthFile(f);
    if (!c.ok) throw new Error(c.error);
    configs.push(c.value);
  }
  const client = new Pusher(r, findCredential(configs, r.registry), options.insecureRegistries ?? []);
  const indexJson = JSON.parse(readFileSync(layout.blobPath(index.digest), 'utf8')) as { manifests: Descriptor[] };
  for (const m of indexJson.manifests) {
    const manifest = readFileSync(layout.blobPath(m.digest));
    const parsedManifest = JSON.parse(manifest.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
    for (const blob of [parsedManifest.config, ...parsedManifest.layers]) await client.blob(blob.digest, () => readFileSync(layout.blobPath(blob.digest)));
    await client.manifest(m.digest, m.mediaType, manifest);
  }
  await client.manifest(r.tag, index.mediaType, readFileSync(layout.blobPath(index.digest)));
  return `${r.registry}/${r.repository}@${index.digest}`;
}

class Pusher {
  private authorization: string | undefined;
  private readonly base: string;

  constructor(
    private readonly ref: ImageReference,
    private readonly credential: Credential | undefined,
    insecure: readonly string[],
  ) {
    this.base = `${schemeFor(ref.registry, insecure)}://${ref.registry}/v2/${ref.repository}`;
  }

  async blob(digest: string, data: () => Buffer): Promise<void> {
    const head = await this.send('HEAD', `${this.base}/blobs/${digest}`);
    if (head.status === 200) return;
    const start = await this.send('POST', `${this.base}/blobs/uploads/`);
    if (start.status !== 202) throw await this.failure(start, `starting the upload of ${digest}`);
    const location = start.headers.get('location');
    if (!location) throw new Error(`registry ${this.ref.registry} started an upload without a Location header`);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const put = await this.send('PUT', url.toString(), data(), 'application/octet-stream');
    if (put.status !== 201) throw await this.failure(put, `uploading ${digest}`);
  }

  async manifest(reference: string, mediaType: string, body: Buffer): Promise<void> {
    const res = await this.send('PUT', `${this.base}/manifests/${reference}`, body, mediaType);
    if (res.status !== 201) throw await this.failure(res, `putting manifest ${reference}`);
  }

  private async send(method: string, url: string, body?: Buffer, contentType?: string): Promise<Response> {
    for (let round = 0; round < 2; round++) {
      const headers: Record<string, string> = {};
      if (this.authorization) headers['authorization'] = this.authorization;
      if (contentType) headers['content-type'] = contentType;
      const res = await fetch(url, { method, headers, body, redirect: 'follow' });
      if (res.status !== 401 || round === 1) return res;
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? undefined);
      if (!challenge) return res;
      await res.arrayBuffer();
      this.authorization = await this.authorize(challenge);
    }
    throw new Error('unreachable');
  }

  private async authorize(c: Challenge): Promise<string> {
    const cred = this.credential;
    const basic = cred?.kind === 'basic' ? `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}` : undefined;
    if (c.scheme === 'basic') {
      if (!basic) throw new Error(`registry ${this.ref.registry} wants a user name and password: none found for it in Docker's config.json`);
      return basic;
    }
    if (cred?.kind === 'registry-token') return `Bearer ${cred.token}`;
    const realm = c.params['realm'];
    if (!realm) throw new Error(`registry ${this.ref.registry} asked for a bearer token without a realm`);
    const url = new URL(realm);
    if (c.params['service']) url.searchParams.set('service', c.params['service']);
    url.searchParams.set('scope', `repository:${this.ref.repository}:pull,push`);
    const res = await fetch(url, { headers: basic ? { authorization: basic } : {} });
    if (res.status !== 200) throw new Error(`token server ${url.host} of registry ${this.ref.registry} answered HTTP ${res.status}`);
    const body = (await res.json()) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw new Error(`token server ${url.host} of registry ${this.ref.registry} sent no token`);
    return `Bearer ${token}`;
  }

  private async failure(res: Response, what: string): Promise<Error> {
    const text = (await res.text()).slice(0, 300).trim();
    return new Error(`registry ${this.ref.registry} refused ${what}: HTTP ${res.status}${text ? ` ${text}` : ''}`);
  }
}
