/**
 * The HTTP(S) server shared by the extender and the webhook: routing, body limit,
 * content-type check, /healthz, /readyz, /metrics, request-latency histograms, and a
 * serving certificate reloaded when its files change (cert-manager and kubelet rotate
 * them in place: the Secret volume's `..data` symlink is swapped atomically).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '../ports/logger.ts';
import type { ServerMetrics } from './metrics.ts';
import { parseListen } from './listen.ts';

export interface Reply {
  readonly status: number;
  /** Serialised as JSON unless `raw` is set. */
  readonly body: unknown;
  readonly raw?: { contentType: string; text: string };
  readonly headers?: Readonly<Record<string, string>>;
}

/** Why a request never reached its handler; each route answers these in its own protocol. */
export type Refusal = { readonly status: 400 | 405 | 413 | 415 | 500; readonly message: string };

export interface JsonRoute {
  readonly path: string;
  /** Label for metrics. */
  readonly name: string;
  handle(body: unknown, signal: AbortSignal): Promise<Reply>;
  refuse(refusal: Refusal): Reply;
}

export interface ServerOptions {
  readonly listen: string;
  /** The flag `listen` came from, for error messages (default `--listen`). */
  readonly listenFlag?: string;
  /**
   * The callers need HTTPS (kube-apiserver, kube-scheduler): warn when started without a
   * certificate. The health and metrics listener is plain HTTP on purpose and does not.
   */
  readonly expectTls?: boolean;
  readonly tlsCertFile?: string;
  readonly tlsPrivateKeyFile?: string;
  /** Largest request body accepted, bytes (kube-apiserver caps AdmissionReview requests at 3 MiB of object). */
  readonly bodyLimit: number;
  readonly routes: readonly JsonRoute[];
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  /** /readyz: undefined when ready, else the reason. */
  readonly notReady?: () => string | undefined;
  /** Fallback poll of the certificate files, for file systems where fs.watch misses the swap. */
  readonly tlsPollMs?: number;
  /** Longest time to receive a whole request, headers and body (kube-apiserver's default: 1 minute). */
  readonly requestTimeoutMs?: number;
  /** Connections open at once; more are refused at accept. */
  readonly maxConnections?: number;
}

export const SERVER_LIMITS = {
  requestTimeoutMs: 60_000,
  maxConnections: 1000,
  /** Deepest JSON nesting of a request body (Kubernetes objects are a few tens of levels deep). */
  maxDepth: 512,
} as const;

/** Why the server could not start, naming the flag and the file or address at fault. */
export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
}

/** True when `value` nests objects or arrays deeper than `max` levels (iterative: no stack to overflow). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1 });
  }
  return false;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly tls: boolean;
  /** Re-reads the certificate and key now; false (old ones kept) when they do not load. */
  reloadCertificate(): Promise<boolean>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage, limit: number): Promise<{ ok: true; body: Buffer } | { ok: false; refusal: Refusal }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return { ok: false, refusal: { status: 413, message: `request body of ${declared} bytes is over the ${limit}-byte limit` } };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > limit) {
        req.resume();
        return { ok: false, refusal: { status: 413, message: `request body is over the ${limit}-byte limit` } };
      }
      chunks.push(b);
    }
  } catch (err) {
    return { ok: false, refusal: { status: 400, message: `reading the body: ${err instanceof Error ? err.message : String(err)}` } };
  }
  return { ok: true, body: Buffer.concat(chunks) };
}

function send(res: ServerResponse, reply: Reply, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status, {
    'content-type': reply.raw ? reply.raw.contentType : 'application/json',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

function isJson(contentType: string | undefined): boolean {
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return mime === 'application/json';
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const listenFlag = opts.listenFlag ?? '--listen';
  const addr = parseListen(opts.listen, listenFlag);
  if (!addr.ok) throw new ServerStartError(addr.error);
  const { metrics, log } = opts;

  /** The reply as text; a body that cannot be serialised still gets an answer in the route's protocol. */
  function serialise(reply: Reply, route: JsonRoute | undefined): { reply: Reply; text: string } {
    if (reply.raw) return { reply, text: reply.raw.text };
    try {
      return { reply, text: JSON.stringify(reply.body) };
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err), route: route?.name }, 'answer not serialisable');
      const fallback = route ? route.refuse({ status: 500, message: 'internal error: the answer could not be serialised' }) : { status: 500, body: { error: 'internal error' } };
      return { reply: fallback, text: JSON.stringify(fallback.body) };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // Looked up per request: roles may add routes after the server is up (a handful, so a scan is fine).
    const route = opts.routes.find((r) => r.path === path);
    let reply: Reply;
    try {
      reply = await dispatch(req, path, route);
    } catch (err) {
      // A bug in a handler: still a valid answer in the route's protocol.
      log.error({ err, path }, 'handler failed');
      reply = route ? route.refuse({ status: 500, message: `internal error: ${err instanceof Error ? err.message : String(err)}` }) : { status: 500, body: { error: 'internal error' } };
    }
    const out = serialise(reply, route);
    send(res, out.reply, out.text);
    reply = out.reply;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.requestDuration.observe({ route: route?.name ?? (path.startsWith('/') && ['/healthz', '/readyz', '/metrics'].includes(path) ? path.slice(1) : 'other'), method: req.method ?? '', code: String(reply.status) }, seconds);
  }

  async function dispatch(req: IncomingMessage, path: string, route: JsonRoute | undefined): Promise<Reply> {
    if (path === '/healthz' || path === '/livez') return { status: 200, body: null, raw: { contentType: 'text/plain', text: 'ok' } };
    if (path === '/readyz') {
      const why = opts.notReady?.();
      return why === undefined ? { status: 200, body: null, raw: { contentType: 'text/plain', text: 'ok' } } : { status: 503, body: null, raw: { contentType: 'text/plain', text: why } };
    }
    if (path === '/metrics' && req.method === 'GET') {
      return { status: 200, body: null, raw: { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() } };
    }
    if (!route) {
      req.resume();
      return { status: 404, body: { error: `no route ${path}` } };
    }
    if (req.method !== 'POST') {
      req.resume();
      return { ...route.refuse({ status: 405, message: `method ${req.method ?? '?'} not allowed; use POST` }), headers: { allow: 'POST' } };
    }
    if (!isJson(req.headers['content-type'])) {
      req.resume();
      return route.refuse({ status: 415, message: `content type "${req.headers['content-type'] ?? ''}" is not application/json` });
    }
    const body = await readBody(req, opts.bodyLimit);
    if (!body.ok) return route.refuse(body.refusal);
    let json: unknown;
    try {
      json = JSON.parse(body.body.toString('utf8'));
    } catch (err) {
      return route.refuse({ status: 400, message: `body is not JSON: ${err instanceof Error ? err.message : String(err)}` });
    }
    if (nestedDeeperThan(json, SERVER_LIMITS.maxDepth)) return route.refuse({ status: 400, message: `body is nested deeper than ${SERVER_LIMITS.maxDepth} levels` });
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    req.socket.once('close', onClose);
    try {
      return await route.handle(json, abort.signal);
    } finally {
      req.socket.off('close', onClose);
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) res.destroy();
    });
  };

  const tls = Boolean(opts.tlsCertFile || opts.tlsPrivateKeyFile);
  if (tls && !(opts.tlsCertFile && opts.tlsPrivateKeyFile)) throw new ServerStartError('--tls-cert-file and --tls-private-key-file go together');
  const requestTimeout = opts.requestTimeoutMs ?? SERVER_LIMITS.requestTimeoutMs;
  const limits = {
    // Whole request (headers and body) and headers alone, checked every second or so: a client sending a byte a second is cut.
    requestTimeout,
    headersTimeout: requestTimeout,
    connectionsCheckingInterval: Math.min(1000, requestTimeout),
    // kube-apiserver and kube-scheduler keep connections alive; outlive their idle timeouts (90 s).
    keepAliveTimeout: 95_000,
  };
  let server: Server;
  let watchers: FSWatcher[] = [];
  let poll: NodeJS.Timeout | undefined;
  let loaded = '';
  let reloadCertificate = async (): Promise<boolean> => false;

  if (tls) {
    const certFile = opts.tlsCertFile as string;
    const keyFile = opts.tlsPrivateKeyFile as string;
    const read = async (): Promise<{ cert: Buffer; key: Buffer }> => ({ cert: await readFile(certFile), key: await readFile(keyFile) });
    // At start a pair that does not load is fatal, naming the file or the mismatch (as kube-apiserver and controller-runtime do).
    const readAtStart = async (flag: string, file: string): Promise<Buffer> =>
      readFile(file).catch((err: unknown) => {
        throw new ServerStartError(`${flag} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      });
    const first = { cert: await readAtStart('--tls-cert-file', certFile), key: await readAtStart('--tls-private-key-file', keyFile) };
    loaded = first.cert.toString('base64') + first.key.toString('base64');
    let https: ReturnType<typeof createHttpsServer>;
    try {
      https = createHttpsServer({ cert: first.cert, key: first.key, minVersion: 'TLSv1.2', ...limits }, listener);
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '');
      throw new ServerStartError(`--tls-cert-file ${certFile} and --tls-private-key-file ${keyFile} do not load as a pair: ${why}`);
    }
    server = https;
    reloadCertificate = async (): Promise<boolean> => {
      try {
        const next = await read();
        const fingerprint = next.cert.toString('base64') + next.key.toString('base64');
        if (fingerprint === loaded) return true;
        // Throws on a key that does not match the certificate (a rotation half-written): the old pair stays.
        (https as unknown as TlsServer).setSecureContext({ cert: next.cert, key: next.key });
        loaded = fingerprint;
        metrics.tlsReloads.inc({ result: 'ok' });
        log.info({ certFile }, 'serving certificate reloaded');
        return true;
      } catch (err) {
        metrics.tlsReloads.inc({ result: 'error' });
        log.warn({ err: err instanceof Error ? err.message : String(err), certFile }, 'serving certificate not reloaded; keeping the current one');
        return false;
      }
    };
    let debounce: NodeJS.Timeout | undefined;
    const onChange = (): void => {
      clearTimeout(debounce);
      debounce = setTimeout(() => void reloadCertificate(), 50);
      debounce.unref();
    };
    for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
      try {
        const w = watch(dir, onChange);
        w.on('error', () => undefined);
        watchers.push(w);
      } catch (err) {
        log.warn({ dir, err: err instanceof Error ? err.message : String(err) }, 'cannot watch certificate directory; polling only');
      }
    }
    poll = setInterval(() => void reloadCertificate(), opts.tlsPollMs ?? 30_000);
    poll.unref();
  } else {
    if (opts.expectTls) log.warn({ listen: opts.listen }, `no --tls-cert-file: serving plain HTTP on ${listenFlag}; kube-apiserver and kube-scheduler need HTTPS outside of tests`);
    server = createHttpServer(limits, listener);
  }
  server.maxConnections = opts.maxConnections ?? SERVER_LIMITS.maxConnections;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      clearInterval(poll);
      for (const w of watchers) w.close();
      const what = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'address not available on this host' : err.message;
      reject(new ServerStartError(`${listenFlag} ${opts.listen}: ${what}${err.code ? ` (${err.code})` : ''}`));
    };
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${bound.port}`,
    port: bound.port,
    tls,
    reloadCertificate: () => reloadCertificate(),
    close: async () => {
      for (const w of watchers) w.close();
      watchers = [];
      clearInterval(poll);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
