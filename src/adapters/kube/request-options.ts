import type { PatchStrategy } from '@kubernetes/client-node';

/**
 * Per-call options for the generated API clients: a deadline on every request (the
 * client sets none, and a request caught in an API server restart can otherwise hang
 * forever) and, for patches, the Content-Type that picks the patch strategy.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

interface RequestContextLike {
  setSignal(signal: AbortSignal): void;
  setHeaderParam(key: string, value: string): void;
}

export function requestOptions(timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, contentType?: PatchStrategy): { middleware: unknown[]; middlewareMergeStrategy: 'append' } {
  return {
    middleware: [
      {
        // The object-parameter API chains middleware through its rxjs stub: each step
        // must return something with toPromise() (what the library's setHeaderOptions does).
        pre: (ctx: RequestContextLike) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          if (contentType) ctx.setHeaderParam('Content-Type', contentType);
          return observable(ctx);
        },
        post: <T>(rsp: T) => observable(rsp),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

function observable<T>(value: T): { toPromise(): Promise<T>; pipe<U>(f: (v: T) => U): unknown } {
  const promise = Promise.resolve(value);
  return { toPromise: () => promise, pipe: (f) => promise.then(f) };
}
