/**
 * The OCI distribution API calls polyarch needs: ping `/v2/`, manifests (every fetched
 * manifest's sha256 checked against the digest asked for or the Docker-Content-Digest
 * the registry sent), blobs (the image config), and tag listing with Link pagination.
 * Authentication is negotiated per registry from the ping's challenge.
 */
import { createHash } from 'node:crypto';
import { MANIFEST_ACCEPT, baseMediaType } from '../../core/image/manifest.ts';
import type { Clock } from '../../ports/clock.ts';
import { parseChallenge, TokenStore, type Challenge } from './auth.ts';
import type { Credential } from './credentials.ts';
import { RegistryHttp, type Deadline, type Fail, type HttpOptions, type HttpResponse, type Result } from './http.ts';

/** Where to send requests for a registry: the host itself or a mirror of it. */
export interface Endpoint {
  /** The registry as the image reference names it (docker.io, 127.0.0.1:5000). */
  readonly registry: string;
  /** The host actually contacted (registry-1.docker.io for docker.io, or a mirror). */
  readonly host: string;
  readonly credential: Credential | undefined;
}

export interface FetchedManifest {
  readonly text: string;
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface ClientLimits {
  manifestBytes: number;
  configBytes: number;
  tokenBytes: number;
  tagPageBytes: number;
  tagPages: number;
  /** Tags asked for per page (`?n=`); the registry may send fewer and a Link to the next page. */
  tagPageSize: number;
}

export interface ClientOptions extends HttpOptions {
  limits: ClientLimits;
}

const DIGEST = /^(sha256|sha512):([a-f0-9]+)$/;

export function digestOf(bytes: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The first OCI error of a registry error body, as "CODE: message". */
function ociError(body: Buffer): string | undefined {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const e = j.errors?.[0];
    if (!e) return undefined;
    return [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': ') || undefined;
  } catch {
    return undefined;
  }
}

export class RegistryClient {
  readonly http: RegistryHttp;
  private readonly tokens: TokenStore;
  private readonly challenges = new Map<string, { challenge: Challenge | null; expires: number }>();

  constructor(private readonly options: ClientOptions) {
    this.http = new RegistryHttp(options);
    this.tokens = new TokenStore(this.http, { clock: options.clock, limit: options.limits.tokenBytes });
  }

  private get clock(): Clock {
    return this.options.clock;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** GET /v2/: is this a registry, and what authentication does it want? Remembered for 10 minutes. */
  async ping(ep: Endpoint, deadline?: Deadline): Promise<Result<Challenge | null>> {
    const known = this.challenges.get(ep.host);
    if (known && known.expires > this.clock.now()) return { ok: true, value: known.challenge };
    const res = await this.http.send({ method: 'GET', url: `${this.http.baseUrl(ep.host)}/v2/`, limit: 64 * 1024, what: 'ping', deadline }, ep.host);
    if (!res.ok) return res;
    const { status, headers } = res.value;
    let challenge: Challenge | null;
    if (status === 200) challenge = null;
    else if (status === 401) {
      challenge = parseChallenge(headers['www-authenticate']) ?? null;
      if (!challenge) return { ok: false, error: { kind: 'unauthorized', cause: `registry ${ep.host} answered 401 without a usable WWW-Authenticate challenge` } };
    } else if (status === 404) {
      return { ok: false, error: { kind: 'not-found', cause: `${ep.host} is not an OCI registry (no /v2/ API)` } };
    } else return { ok: false, error: statusFail(ep, res.value, 'ping') };
    this.challenges.set(ep.host, { challenge, expires: this.clock.now() + 600_000 });
    return { ok: true, value: challenge };
  }

  /** A request with the authentication the registry asked for; one renewal when a token is refused. */
  private async authorized(ep: Endpoint, path: string, scope: string, req: { accept?: string; limit: number; what: string; method?: 'GET' | 'HEAD' }, deadline?: Deadline): Promise<Result<HttpResponse>> {
    const ping = await this.ping(ep, deadline);
    if (!ping.ok) return ping;
    let challenge = ping.value;
    const url = path.startsWith('http') ? path : `${this.http.baseUrl(ep.host)}${path}`;
    for (let round = 0; round < 2; round++) {
      const headers: Record<string, string> = {};
      if (req.accept) headers['accept'] = req.accept;
      if (challenge?.scheme === 'basic') {
        if (ep.credential?.kind === 'basic') headers['authorization'] = `Basic ${Buffer.from(`${ep.credential.username}:${ep.credential.password}`).toString('base64')}`;
      } else if (challenge?.scheme === 'bearer') {
        const token = await this.tokens.token(ep.host, challenge, scope, ep.credential, deadline);
        if (!token.ok) return token;
        headers['authorization'] = `Bearer ${token.value}`;
      }
      const res = await this.http.send({ method: req.method ?? 'GET', url, headers, limit: req.limit, what: req.what, deadline }, ep.host);
      if (!res.ok || res.value.status !== 401 || round === 1) return res;
      // The registry may want a different scope or scheme than the ping said (or the token expired early).
      const fresh = parseChallenge(res.value.headers['www-authenticate']);
      if (!fresh) return res;
      if (challenge?.scheme === 'bearer') this.tokens.forget(challenge, scope, ep.credential);
      if (fresh.scheme === 'basic' && ep.credential?.kind !== 'basic') return res;
      if (fresh.scheme === 'bearer' && fresh.params['scope'] && fresh.params['scope'] !== scope) scope = fresh.params['scope'];
      challenge = fresh;
      this.challenges.set(ep.host, { challenge: fresh, expires: this.clock.now() + 600_000 });
    }
    return { ok: false, error: { kind: 'other', cause: 'unreachable' } };
  }

  /** A manifest by tag or digest, its bytes verified against the digest. */
  async manifest(ep: Endpoint, repository: string, reference: string, deadline?: Deadline): Promise<Result<FetchedManifest>> {
    const what = `manifest ${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.authorized(ep, `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { accept: MANIFEST_ACCEPT, limit: this.options.limits.manifestBytes, what }, deadline);
    if (!res.ok) return res;
    const r = res.value;
    if (r.status !== 200) return { ok: false, error: statusFail(ep, r, what) };
    const sent = r.headers['docker-content-digest']?.trim();
    const expected = DIGEST.test(reference) ? reference : sent;
    let digest: string;
    if (expected !== undefined && expected !== '') {
      const m = DIGEST.exec(expected);
      if (!m) return { ok: false, error: { kind: 'invalid-manifest', cause: `registry ${ep.host} sent a malformed Docker-Content-Digest "${expected}"` } };
      const actual = digestOf(r.body, m[1] as 'sha256' | 'sha512');
      if (actual !== expected) {
        return { ok: false, error: { kind: 'digest-mismatch', cause: `${what} from registry ${ep.host} hashes to ${actual}, not ${expected}; the body was altered in transit or by the registry` } };
      }
      digest = expected;
      if (sent && DIGEST.test(reference) && sent !== reference && DIGEST.exec(sent)?.[1] === m[1]) {
        return { ok: false, error: { kind: 'digest-mismatch', cause: `${what}: registry ${ep.host} says its digest is ${sent}` } };
      }
    } else digest = digestOf(r.body);
    return { ok: true, value: { text: r.body.toString('utf8'), mediaType: baseMediaType(r.headers['content-type']), digest, size: r.body.length } };
  }

  /** A blob (an image config) by digest, verified. */
  async blob(ep: Endpoint, repository: string, digest: string, deadline?: Deadline): Promise<Result<Buffer>> {
    const what = `config blob ${digest} of ${repository}`;
    const m = DIGEST.exec(digest);
    if (!m) return { ok: false, error: { kind: 'invalid-manifest', cause: `malformed blob digest "${digest}"` } };
    const res = await this.authorized(ep, `/v2/${repository}/blobs/${digest}`, `repository:${repository}:pull`, { limit: this.options.limits.configBytes, what }, deadline);
    if (!res.ok) return res;
    if (res.value.status !== 200) return { ok: false, error: statusFail(ep, res.value, what) };
    const actual = digestOf(res.value.body, m[1] as 'sha256' | 'sha512');
    if (actual !== digest) return { ok: false, error: { kind: 'digest-mismatch', cause: `${what} from registry ${ep.host} hashes to ${actual}` } };
    return { ok: true, value: res.value.body };
  }

  /** Every tag of a repository, following `Link: <...>; rel="next"`; an unknown repository has none. */
  async tags(ep: Endpoint, repository: string, deadline?: Deadline): Promise<Result<string[]>> {
    const out: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=${this.options.limits.tagPageSize}`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= this.options.limits.tagPages) {
        return { ok: false, error: { kind: 'too-large', cause: `tag list of ${repository} at registry ${ep.host} has more than ${this.options.limits.tagPages} pages` } };
      }
      const res = await this.authorized(ep, path, `repository:${repository}:pull`, { accept: 'application/json', limit: this.options.limits.tagPageBytes, what: `tag list of ${repository}` }, deadline);
      if (!res.ok) return res;
      if (res.value.status === 404) return { ok: true, value: out };
      if (res.value.status !== 200) return { ok: false, error: statusFail(ep, res.value, `tag list of ${repository}`) };
      let tags: unknown;
      try {
        tags = (JSON.parse(res.value.body.toString('utf8')) as { tags?: unknown }).tags;
      } catch {
        return { ok: false, error: { kind: 'invalid-manifest', cause: `tag list of ${repository} from registry ${ep.host} is not valid JSON` } };
      }
      if (tags !== null && tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
        return { ok: false, error: { kind: 'invalid-manifest', cause: `tag list of ${repository} from registry ${ep.host}: tags: expected an array of strings` } };
      }
      out.push(...((tags as string[] | null | undefined) ?? []));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(res.value.headers['link'] ?? '')?.[1];
      if (next === undefined) break;
      const url = new URL(next, res.value.url);
      // The next page is asked for with the registry's credentials: never of another host.
      if (url.origin !== new URL(res.value.url).origin) {
        return { ok: false, error: { kind: 'other', cause: `tag list of ${repository} at registry ${ep.host} links its next page to another host (${url.host}); not followed` } };
      }
      path = url.toString();
    }
    return { ok: true, value: out };
  }
}

/** A non-success status as a failure naming the registry and the registry's own reason. */
export function statusFail(ep: Endpoint, r: HttpResponse, what: string): Fail {
  const attempts = `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`;
  const reason = ociError(r.body);
  const detail = reason ? ` (${reason})` : '';
  if (r.status === 404) return { kind: 'not-found', cause: `registry ${ep.host} has no ${what}${detail}` };
  if (r.status === 401 || r.status === 403) {
    const who = ep.credential
      ? `with the credentials${ep.credential.kind === 'registry-token' ? ' token' : ` of ${ep.credential.username}`} for ${ep.registry}`
      : `without credentials (none for ${ep.registry}; pass --auth-file or a pull secret)`;
    return { kind: 'unauthorized', cause: `registry ${ep.host} refused ${what} ${who}: HTTP ${r.status}${detail}` };
  }
  if (r.status === 429) return { kind: 'rate-limited', cause: `registry ${ep.host} rate-limited ${what} (HTTP 429 after ${attempts}${r.headers['retry-after'] ? `, Retry-After ${r.headers['retry-after']}` : ''})` };
  if (r.status >= 500) return { kind: 'unreachable', cause: `registry ${ep.host} failed on ${what}: HTTP ${r.status} after ${attempts}${detail}` };
  return { kind: 'other', cause: `registry ${ep.host} answered HTTP ${r.status} for ${what}${detail}` };
}

