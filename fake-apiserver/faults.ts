/**
 * Fault injection: fail requests with an error code, add latency. Dropping watches and
 * stopping/restarting the server live on FakeApiServer (they need the sockets).
 */
import { ApiError } from './status.ts';

export interface FailRule {
  remaining: number;
  path?: string | RegExp;
  method?: string;
  code: number;
  message: string;
}

/**
 * One request as served. For resource requests, the RBAC attributes too (verb, apiGroup,
 * resource, subresource, namespace, name), so a test can check a ClusterRole covers
 * every verb a component used, or count API requests per pod.
 */
export interface RequestRecord {
  method: string;
  path: string;
  code: number;
  watch: boolean;
  verb?: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export class Faults {
  latencyMs = 0;
  private rules: FailRule[] = [];

  /** The next `n` requests (matching `path`, a substring or a RegExp, and `method`) fail with `code` (500 by default). */
  failNext(n: number, opts: { path?: string | RegExp; method?: string; code?: number; message?: string } = {}): void {
    this.rules.push({
      remaining: n,
      ...(opts.path !== undefined ? { path: opts.path } : {}),
      ...(opts.method !== undefined ? { method: opts.method.toUpperCase() } : {}),
      code: opts.code ?? 500,
      message: opts.message ?? 'injected fault',
    });
  }

  /** Every request waits `ms` before it is handled. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  clear(): void {
    this.rules = [];
    this.latencyMs = 0;
  }

  /** The error to answer this request with, if a rule says so (and counts it). */
  take(method: string, path: string): ApiError | undefined {
    for (const r of this.rules) {
      if (r.remaining <= 0) continue;
      if (r.method && r.method !== method) continue;
      if (r.path !== undefined && !(typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))) continue;
      r.remaining--;
      this.rules = this.rules.filter((x) => x.remaining > 0);
      const reason = r.code === 500 ? 'InternalError' : r.code === 429 ? 'TooManyRequests' : r.code === 503 ? 'ServiceUnavailable' : r.code === 504 ? 'Timeout' : '';
      return new ApiError(r.code, reason as never, r.code === 500 ? `Internal error occurred: ${r.message}` : r.message,
        r.code === 429 ? { retryAfterSeconds: 1 } : undefined);
    }
    return undefined;
  }
}
