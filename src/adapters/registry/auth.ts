/**
 * Registry authentication (distribution spec, "Token Authentication"): a 401 carries
 * `WWW-Authenticate: Bearer realm=...,service=...,scope=...` (get a token from the
 * realm, with basic credentials or an identity token when we have them) or
 * `Basic realm=...` (send the credentials directly).
 */
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import type { Credential } from './credentials.ts';
import { describeSize, hostname, type Deadline, type RegistryHttp, type Result } from './http.ts';

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a WWW-Authenticate header (one challenge; quoted or token parameter values). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) {
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme, params };
}

/** A token realm may receive the registry's credentials when it is HTTPS, or the registry's own host (which gets them anyway). */
export function mayReceiveCredentials(realm: URL, registry: string): boolean {
  return realm.protocol === 'https:' || hostname(realm.host).toLowerCase() === hostname(registry).toLowerCase();
}

const tokenSchema = z
  .object({
    token: z.string().min(1).optional(),
    access_token: z.string().min(1).optional(),
    expires_in: z.number().int().positive().optional(),
  })
  .refine((t) => t.token !== undefined || t.access_token !== undefined, { message: 'neither "token" nor "access_token" present', path: ['token'] });

function identity(c: Credential | undefined): string {
  if (!c) return 'anonymous';
  return c.kind === 'registry-token' ? `token:${c.token.slice(0, 8)}` : `${c.kind}:${c.username}`;
}

/** Tokens kept at most (one per repository scope and credential); expired ones go first. */
const MAX_TOKENS = 4096;

export interface TokenOptions {
  readonly clock: Clock;
  /** Largest token response accepted. */
  readonly limit: number;
}

/** Bearer tokens per (realm, service, scope, credential), kept until shortly before they expire. */
export class TokenStore {
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly inflight = new Map<string, Promise<Result<{ token: string; ttlMs: number }>>>();

  constructor(
    private readonly http: RegistryHttp,
    private readonly options: TokenOptions,
  ) {}

  async token(registry: string, challenge: Challenge, scope: string, credential: Credential | undefined, deadline?: Deadline): Promise<Result<string>> {
    if (credential?.kind === 'registry-token') return { ok: true, value: credential.token };
    const realm = challenge.params['realm'];
    if (!realm) return { ok: false, error: { kind: 'unauthorized', cause: `registry ${registry} asked for a bearer token without a realm` } };
    const service = challenge.params['service'] ?? '';
    const key = `${realm}|${service}|${scope}|${identity(credential)}`;
    const hit = this.tokens.get(key);
    if (hit && hit.expires > this.options.clock.now()) return { ok: true, value: hit.token };
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetchToken(registry, realm, service, scope, credential, deadline).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const r = await p;
    if (!r.ok) return r;
    const now = this.options.clock.now();
    if (this.tokens.size >= MAX_TOKENS) {
      for (const [k, t] of this.tokens) if (t.expires <= now || this.tokens.size >= MAX_TOKENS) this.tokens.delete(k);
    }
    this.tokens.set(key, { token: r.value.token, expires: now + r.value.ttlMs });
    return { ok: true, value: r.value.token };
  }

  /** Forgets a token the registry refused (revoked, or issued for less than asked). */
  forget(challenge: Challenge, scope: string, credential: Credential | undefined): void {
    this.tokens.delete(`${challenge.params['realm']}|${challenge.params['service'] ?? ''}|${scope}|${identity(credential)}`);
  }

  private async fetchToken(registry: string, realm: string, service: string, scope: string, credential: Credential | undefined, deadline?: Deadline): Promise<Result<{ token: string; ttlMs: number }>> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      return { ok: false, error: { kind: 'unauthorized', cause: `registry ${registry} named an invalid token realm "${realm}"` } };
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credential && !mayReceiveCredentials(url, registry)) {
      // Credentials go to a realm only over HTTPS or on the registry's own host: a plain-HTTP realm elsewhere would get them in clear.
      const warning = `credentials for ${registry} not sent to token realm ${url.origin}: it is plain HTTP on another host than the registry; asked for an anonymous token`;
      if (!deadline?.warnings.includes(warning)) deadline?.warnings.push(warning);
      credential = undefined;
    }
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (credential?.kind === 'identity-token') {
      // OAuth2 refresh-token grant, as `docker login` stores it.
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, service, scope, client_id: 'polyarch' }).toString();
    } else {
      if (service) url.searchParams.set('service', service);
      if (scope) url.searchParams.set('scope', scope);
      if (credential?.kind === 'basic') headers['authorization'] = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
    const res = await this.http.send({ method, url: url.toString(), headers, body, limit: this.options.limit, what: 'token response', deadline }, registry);
    if (!res.ok) {
      const e = res.error;
      return { ok: false, error: e.kind === 'too-large' ? { kind: 'too-large', cause: `token response from ${url.host} for registry ${registry} is larger than the ${describeSize(this.options.limit)} limit` } : e };
    }
    const status = res.value.status;
    if (status === 401 || status === 403) {
      return { ok: false, error: { kind: 'unauthorized', cause: `token server ${url.host} of registry ${registry} refused the ${credential ? `credentials of ${credential.kind === 'basic' ? credential.username : 'the identity token'}` : 'anonymous request'} (HTTP ${status})` } };
    }
    if (status !== 200) return { ok: false, error: { kind: status === 429 ? 'rate-limited' : 'other', cause: `token server ${url.host} of registry ${registry} answered HTTP ${status}` } };
    let json: unknown;
    try {
      json = JSON.parse(res.value.body.toString('utf8'));
    } catch {
      return { ok: false, error: { kind: 'other', cause: `token server ${url.host} of registry ${registry} sent a response that is not JSON` } };
    }
    const parsed = tokenSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, error: { kind: 'other', cause: `token server ${url.host} of registry ${registry} sent an invalid response (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})` } };
    }
    // Renew 10 s early; the spec's default lifetime is 60 s.
    const ttlMs = Math.max(1, (parsed.data.expires_in ?? 60) - 10) * 1000;
    return { ok: true, value: { token: (parsed.data.token ?? parsed.data.access_token) as string, ttlMs } };
  }
}
