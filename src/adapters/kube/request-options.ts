import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { PatchStrategy } from '@kubernetes/client-node';

/**
 * Per-call options for the generated API clients: a deadline on every request (the
 * client sets none, and a request caught in an API server restart can otherwise hang
 * forever), for patches the Content-Type that picks the patch strategy, and a connection
 * kept alive between requests.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

interface RequestContextLike {
  setSignal(signal: AbortSignal): void;
  setHeaderParam(key: string, value: string): void;
  getAgent(): HttpAgent | HttpsAgent | undefined;
  setAgent(agent: HttpAgent | HttpsAgent): void;
}

type RequestOptions = { middleware: unknown[]; middlewareMergeStrategy: 'append' };
/** The options hold no per-request state (the deadline starts in `pre`): one per (timeout, content type). */
const made = new Map<string, RequestOptions>();

export function requestOptions(timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, contentType?: PatchStrategy): RequestOptions {
  const key = `${timeoutMs}|${contentType ?? ''}`;
  let options = made.get(key);
  if (!options) {
    options = build(timeoutMs, contentType);
    made.set(key, options);
  }
  return options;
}

function build(timeoutMs: number, contentType: PatchStrategy | undefined): RequestOptions {
  return {
    middleware: [
      {
        // The object-parameter API chains middleware through its rxjs stub: each step
        // must return something with toPromise() (what the library's setHeaderOptions does).
        // It runs after the kubeconfig's authentication has set the request's agent.
        pre: (ctx: RequestContextLike) => {
          ctx.setSignal(deadline(timeoutMs));
          if (contentType) ctx.setHeaderParam('Content-Type', contentType);
          const agent = ctx.getAgent();
          if (agent) ctx.setAgent(keepAliveAgent(agent));
          return observable(ctx);
        },
        post: <T>(rsp: T) => observable(rsp),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * Requests started within the same DEADLINE_SLOT_MS share one deadline signal, which
 * aborts them between timeoutMs and timeoutMs + DEADLINE_SLOT_MS after they started.
 * AbortSignal.timeout's timer is never cleared, so a signal per request keeps one timer
 * and one signal alive for the whole timeout after its request ended: 60,000 of them at
 * 2,000 requests per second, all surviving to the old generation. Shared, a few dozen.
 */
const DEADLINE_SLOT_MS = 1_000;
const deadlines = new Map<number, { slot: number; signal: AbortSignal }>();

function deadline(timeoutMs: number): AbortSignal {
  const slot = Math.floor(Date.now() / DEADLINE_SLOT_MS);
  const current = deadlines.get(timeoutMs);
  if (current?.slot === slot) return current.signal;
  const signal = AbortSignal.timeout(timeoutMs + DEADLINE_SLOT_MS);
  // Every request in flight listens on it (no leak: each listener goes when its request ends).
  setMaxListeners(0, signal);
  deadlines.set(timeoutMs, { slot, signal });
  return signal;
}

function observable<T>(value: T): { toPromise(): Promise<T>; pipe<U>(f: (v: T) => U): unknown } {
  const promise = Promise.resolve(value);
  return { toPromise: () => promise, pipe: (f) => promise.then(f) };
}

/** The TLS and connection options of an agent that decide whether two agents may share connections. */
const IDENTITY = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'crl', 'secureProtocol', 'secureOptions'] as const;
const MAX_AGENTS = 8;
const shared = new Map<string, HttpAgent | HttpsAgent>();

/**
 * @kubernetes/client-node 1.x builds a new agent for every request (KubeConfig
 * applySecurityAuthentication), so every request opens a TCP connection and, over HTTPS,
 * does a TLS handshake. client-go keeps connections alive; so do we: a plain http or
 * https agent is replaced by a shared keep-alive agent with the same options (the same
 * CA, client certificate and key, verification and server name). Credentials carried in
 * headers (tokens) are per request and unaffected; a rotated client certificate gives
 * other options, hence another agent. Proxy agents (a kubeconfig proxy-url) are left as
 * they are.
 */
export function keepAliveAgent(agent: HttpAgent | HttpsAgent): HttpAgent | HttpsAgent {
  const ctor = agent.constructor;
  if (ctor !== HttpAgent && ctor !== HttpsAgent) return agent;
  const options = (agent as unknown as { options: Record<string, unknown> }).options;
  // Plain http has no identity (the agent below is made without the options).
  const key = ctor === HttpAgent ? 'http' : JSON.stringify(['https', ...IDENTITY.map((k) => identity(options[k]))]);
  let kept = shared.get(key);
  if (!kept) {
    const own: Record<string, unknown> = {};
    for (const k of IDENTITY) if (options[k] !== undefined) own[k] = options[k];
    kept = ctor === HttpsAgent ? new HttpsAgent({ ...own, keepAlive: true }) : new HttpAgent({ keepAlive: true });
    // A handful of identities at most (a rotated certificate adds one); the oldest is
    // forgotten, its idle connections closed by the server's idle timeout.
    if (shared.size >= MAX_AGENTS) shared.delete(shared.keys().next().value ?? '');
    shared.set(key, kept);
  }
  return kept;
}

function identity(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (Array.isArray(v)) return v.map(identity);
  return v ?? null;
}
