/**
 * HTTP for the registry client over undici: the scheme a registry gets (plain HTTP for
 * loopback and --insecure-registry hosts, as Docker does; HTTPS with certificate
 * verification otherwise), size-limited bodies, timeouts, and retries with backoff on
 * 429 and 5xx that honour Retry-After. Failures are values, never thrown.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { Clock } from '../../ports/clock.ts';

export type FailKind = 'not-found' | 'unauthorized' | 'unreachable' | 'invalid-manifest' | 'digest-mismatch' | 'too-large' | 'rate-limited' | 'timeout' | 'other';

/** A failure on the way to the registry; `cause` is a phrase that names the registry. */
export interface Fail {
  readonly kind: FailKind;
  readonly cause: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: Fail };

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: string;
  /** Requests made, retries included. */
  readonly attempts: number;
}

type Attempt = { ok: true; value: HttpResponse } | { ok: false; error: Fail; retryable: boolean };

export interface HttpOptions {
  clock: Clock;
  /** Per-request time to response headers and between body chunks (ms). */
  timeoutMs: number;
  /** Attempts per request, including the first (429, 5xx and dropped connections are retried). */
  attempts: number;
  /** First backoff delay (ms), doubled on each retry when there is no Retry-After. */
  backoffMs: number;
  /** A Retry-After longer than this is not waited for: the lookup fails as rate-limited. */
  maxRetryAfterMs: number;
  /** Hosts (host or host:port) that get plain HTTP besides loopback ones. */
  insecureRegistries: readonly string[];
}

export interface SendRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Largest body accepted; a bigger one is a `too-large` failure, read no further. */
  readonly limit: number;
  /** What is being read, for messages ("manifest", "token response", ...). */
  readonly what: string;
  readonly deadline?: Deadline;
}

/**
 * The whole lookup's deadline, as containerd bounds a resolve by its context: `at` on
 * the injected Clock, for deciding whether a backoff still fits; `signal` aborts the
 * request in flight (headers or body, however slowly it trickles) when the time is up.
 */
export interface Deadline {
  readonly at: number;
  /** The budget the lookup started with, for messages. */
  readonly ms: number;
  readonly signal: AbortSignal;
  /** Warnings met on the way (credentials withheld from a token realm), reported with the answer. */
  readonly warnings: string[];
}

/** A deadline `ms` from now: `at` on the Clock, the abort on a real timer (the I/O it cuts is real). */
export function deadlineIn(clock: Clock, ms: number): Deadline {
  const budget = Math.max(1, Math.round(ms));
  return { at: clock.now() + budget, ms: budget, signal: AbortSignal.timeout(budget), warnings: [] };
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED']);
const MAX_REDIRECTS = 5;

export function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  return host.split(':')[0] ?? host;
}

export function isLoopback(host: string): boolean {
  const h = hostname(host).toLowerCase();
  // IPv4-mapped IPv6 forms of 127/8 count too, as in Docker (Go's IP.IsLoopback).
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h);
}

/** `http` for loopback and insecure registries, else `https`. */
export function schemeFor(host: string, insecure: readonly string[]): 'http' | 'https' {
  if (isLoopback(host)) return 'http';
  const h = host.toLowerCase();
  return insecure.some((i) => i.toLowerCase() === h || i.toLowerCase() === hostname(h)) ? 'http' : 'https';
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_CONNECT') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return (err as { name?: string } | undefined)?.name ?? 'ERROR';
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/;

function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
    e = e.cause;
  }
  // Messages go on one line (OpenSSL's end with a newline).
  return (parts.join(': ') || String(err)).replace(/\s+/g, ' ').trim();
}

function flatHeaders(h: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export class RegistryHttp {
  private readonly agent: Agent;

  constructor(private readonly options: HttpOptions) {
    // One pooled agent; TLS verification stays on (undici's default).
    this.agent = new Agent({ connectTimeout: options.timeoutMs, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, keepAliveTimeout: 10_000 });
  }

  baseUrl(host: string): string {
    return `${schemeFor(host, this.options.insecureRegistries)}://${host}`;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** One request with retries on 429/5xx/dropped connections. Statuses are returned, not judged. */
  async send(req: SendRequest, registry: string): Promise<Result<HttpResponse>> {
    let last: Attempt | undefined;
    let attempts = 0;
    const deadline = req.deadline;
    const expired = (): Result<HttpResponse> => ({ ok: false, error: { kind: 'timeout', cause: `registry ${registry} did not finish the lookup within its ${deadline?.ms} ms deadline (${req.what} unfinished)` } });
    while (attempts < this.options.attempts) {
      if (deadline && (deadline.signal.aborted || this.options.clock.now() >= deadline.at)) return expired();
      last = await this.once(req, registry);
      attempts++;
      if (deadline?.signal.aborted) return expired();
      const retryable = last.ok ? RETRY_STATUS.has(last.value.status) : last.retryable;
      if (!retryable || attempts === this.options.attempts) break;
      let delay = this.options.backoffMs * 2 ** (attempts - 1);
      if (last.ok) {
        const after = parseRetryAfter(last.value.headers['retry-after'], this.options.clock.now());
        if (after !== undefined) {
          if (after > this.options.maxRetryAfterMs) break;
          delay = after;
        }
      }
      // A backoff that would end past the deadline is not waited for.
      if (deadline && this.options.clock.now() + delay >= deadline.at) return expired();
      try {
        await this.options.clock.sleep(delay, deadline?.signal);
      } catch {
        return expired();
      }
    }
    if (last === undefined) return { ok: false, error: { kind: 'other', cause: 'no attempt made' } };
    if (last.ok) return { ok: true, value: { ...last.value, attempts } };
    if (last.retryable) return { ok: false, error: { kind: 'unreachable', cause: `registry ${registry} dropped the connection ${attempts} times (${last.error.cause})` } };
    return { ok: false, error: last.error };
  }

  private async once(req: SendRequest, registry: string): Promise<Attempt> {
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: req.method,
          headers,
          body: req.body,
          dispatcher: this.agent,
          signal: req.deadline?.signal,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
      } catch (err) {
        return networkFail(err, registry, this.options.timeoutMs);
      }
      const h = flatHeaders(res.headers);
      if (res.statusCode >= 300 && res.statusCode < 400 && h['location']) {
        await res.body.dump().catch(() => undefined);
        const next = new URL(h['location'], url);
        // Blob storage redirects (S3, GCS) must not receive the registry's credentials.
        if (next.host !== new URL(url).host) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
        url = next.toString();
        continue;
      }
      // Error bodies are read only for their message; keep them small.
      const limit = res.statusCode >= 400 ? Math.min(req.limit, 64 * 1024) : req.limit;
      const body = await readLimited(res, limit);
      if (!body.ok) {
        if (body.tooLarge && res.statusCode < 400) {
          return { ok: false, retryable: false, error: { kind: 'too-large', cause: `${req.what} from registry ${registry} is larger than the ${describeSize(req.limit)} limit` } };
        }
        if (!body.tooLarge) return networkFail(body.error, registry, this.options.timeoutMs);
      }
      return { ok: true, value: { status: res.statusCode, headers: h, body: body.ok ? body.value : Buffer.alloc(0), url, attempts: 1 } };
    }
    return { ok: false, retryable: false, error: { kind: 'other', cause: `registry ${registry} redirected more than ${MAX_REDIRECTS} times` } };
  }
}

async function readLimited(res: Dispatcher.ResponseData, limit: number): Promise<{ ok: true; value: Buffer } | { ok: false; tooLarge: boolean; error?: unknown }> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    return { ok: false, tooLarge: true };
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      total += b.length;
      if (total > limit) {
        res.body.destroy();
        return { ok: false, tooLarge: true };
      }
      chunks.push(b);
    }
  } catch (err) {
    return { ok: false, tooLarge: false, error: err };
  }
  return { ok: true, value: Buffer.concat(chunks) };
}

function networkFail(err: unknown, registry: string, timeoutMs: number): Attempt {
  const code = errorCode(err);
  const fail = (kind: FailKind, cause: string, retryable = false): Attempt => ({ ok: false, retryable, error: { kind, cause } });
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return fail('timeout', `registry ${registry} did not answer within ${timeoutMs} ms`);
  }
  if (code === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') return fail('other', `lookup at registry ${registry} was cancelled`);
  if (RETRY_CODES.has(code)) return fail('unreachable', `${code}: ${errorText(err)}`, true);
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return fail('unreachable', `registry ${registry} unreachable (TLS handshake failed: ${code}; if it serves plain HTTP, name it with --insecure-registry)`);
  }
  if (CERT_CODES.test(code)) return fail('unreachable', `registry ${registry} unreachable (${code}: ${errorText(err)}; its TLS certificate is not trusted)`);
  return fail('unreachable', `registry ${registry} unreachable (${code === 'ERROR' ? errorText(err) : `${code}: ${errorText(err)}`})`);
}

export function describeSize(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
