import { ApiException } from '@kubernetes/client-node';

/**
 * What a failed API call means for the caller, read from the HTTP status and the
 * `Status` body the API server sends on every error (API conventions, "Response Status
 * Kind"). Network failures have status 0.
 */
export interface ApiFailure {
  readonly status: number;
  /** Status.reason: NotFound, AlreadyExists, Conflict, TooManyRequests, Expired, ... */
  readonly reason: string;
  readonly message: string;
  /** Seconds from Retry-After or Status.details.retryAfterSeconds, when the server said. */
  readonly retryAfterSeconds: number | undefined;
  /** Status.details.causes messages (an eviction refused by a budget names it there). */
  readonly causes: readonly string[];
}

export function apiFailure(err: unknown): ApiFailure {
  if (err instanceof ApiException) {
    const body = parseBody(err.body);
    const headers = (err.headers ?? {}) as Record<string, string>;
    const retryHeader = Number(headers['retry-after'] ?? headers['Retry-After']);
    const retryBody = Number(body?.details?.retryAfterSeconds);
    return {
      status: err.code,
      reason: typeof body?.reason === 'string' ? body.reason : '',
      message: typeof body?.message === 'string' ? body.message : `HTTP ${err.code}`,
      retryAfterSeconds: Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : Number.isFinite(retryBody) && retryBody > 0 ? retryBody : undefined,
      causes: Array.isArray(body?.details?.causes) ? body.details.causes.map((c) => (typeof c?.message === 'string' ? c.message : '')).filter((m) => m !== '') : [],
    };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; cause?: { code?: unknown } };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 0;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  return { status, reason: code || 'NetworkError', message: typeof e?.message === 'string' ? e.message : String(err), retryAfterSeconds: undefined, causes: [] };
}

interface StatusBody {
  reason?: unknown;
  message?: unknown;
  details?: { retryAfterSeconds?: unknown; causes?: { message?: unknown }[] };
}

function parseBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : undefined;
}

export const isNotFound = (f: ApiFailure): boolean => f.status === 404;
export const isConflict = (f: ApiFailure): boolean => f.status === 409;
export const isTooManyRequests = (f: ApiFailure): boolean => f.status === 429;
/** Worth retrying later: throttled, server-side trouble, or the network. */
export const isTransient = (f: ApiFailure): boolean => f.status === 0 || f.status === 429 || f.status >= 500;
