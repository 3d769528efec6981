/**
 * A Docker registry token server for tests (the `auth: token` flow of the distribution
 * spec), on 127.0.0.1 with a random port.
 *
 *   const ts = await startTokenServer({ users: { alice: 'secret' } });
 *   // registry config: auth.token { realm: ts.realm, service: ts.service,
 *   //                               issuer: ts.issuer, rootcertbundle: <ts.certificatePem in a file> }
 *   ts.requests   // every token request seen (scope, user), to assert caching
 *   ts.mode = 'oversized' | 'malformed' | 'normal'
 *   await ts.stop()
 *
 * Known users get every action they ask for; anonymous callers get `anonymousActions`
 * (none by default), so the registry answers 401/insufficient scope for them. Tokens are
 * ES256 JWTs signed with a fresh P-256 key; the header carries the self-signed
 * certificate as `x5c`, which the registry verifies against its rootcertbundle.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from './der.ts';

export interface TokenServerOptions {
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** Actions granted without credentials, e.g. ['pull']; default none. */
  anonymousActions?: string[];
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
  /** Loopback address to listen on (default 127.0.0.1); 127.0.0.2 puts the realm on another host than the registry. */
  host?: string;
}

export interface TokenRequest {
  readonly user: string | undefined;
  readonly scopes: readonly string[];
  readonly service: string | null;
}

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certificatePem: string;
  readonly requests: TokenRequest[];
  mode: 'normal' | 'oversized' | 'malformed';
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function basicUser(req: IncomingMessage, users: Record<string, string>): { user?: string; bad: boolean } {
  const h = req.headers.authorization;
  if (!h) return { bad: false };
  const m = /^Basic\s+(.+)$/i.exec(h);
  if (!m?.[1]) return { bad: true };
  const [user = '', ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
  return users[user] !== undefined && users[user] === rest.join(':') ? { user, bad: false } : { bad: true };
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? 'polyarch-test-registry';
  const issuer = options.issuer ?? 'polyarch-test-issuer';
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const certificatePem = selfSignedCertificate(privateKey, issuer);
  const certDer = Buffer.from(certificatePem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const requests: TokenRequest[] = [];

  const issue = (user: string | undefined, scopes: string[]): string => {
    const access = scopes.flatMap((s) => {
      const parts = s.split(':');
      if (parts.length < 3) return [];
      const actions = (parts[parts.length - 1] ?? '').split(',');
      const granted = user ? actions : actions.filter((a) => (options.anonymousActions ?? []).includes(a));
      return granted.length ? [{ type: parts[0], name: parts.slice(1, -1).join(':'), actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + (options.expiresIn ?? 300), nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };

  const state = { mode: 'normal' as TokenServer['mode'] };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const who = basicUser(req, options.users);
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ user: who.user, scopes, service: url.searchParams.get('service') });
    if (who.bad) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    if (state.mode === 'oversized') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"token":"${'x'.repeat(2 * 1024 * 1024)}"}`);
      return;
    }
    if (state.mode === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token": ');
      return;
    }
    const token = issue(who.user, scopes);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: options.expiresIn ?? 300, issued_at: new Date().toISOString() }));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    realm: `http://${host}:${port}/token`,
    service,
    issuer,
    certificatePem,
    requests,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
