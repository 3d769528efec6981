import type { ImageReference } from '../core/image/reference.ts';
import type { ImagePlatforms } from '../core/image/types.ts';

/** Why an image could not be resolved; `kind` lets callers decide (retry, event, refuse). */
export interface ResolveError {
  readonly kind: 'invalid-reference' | 'not-found' | 'unauthorized' | 'unreachable' | 'invalid-manifest' | 'digest-mismatch' | 'too-large' | 'rate-limited' | 'timeout' | 'other';
  /** One line naming the image, the registry and the cause. */
  readonly message: string;
}

/** The one result type of S1, whoever answers (registry, catalog file, simulator). */
export type ResolveResult = { ok: true; value: ImagePlatforms } | { ok: false; error: ResolveError };

/** Docker config.json style credentials (also a `.dockerconfigjson` pull secret). */
export interface RegistryCredentials {
  readonly auths: Readonly<Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>>;
}

export interface LookupRequest {
  /** A pod's pull-secret credentials (first), before the source's own. */
  readonly credentials: readonly RegistryCredentials[];
  /** Whole-lookup deadline, on the Clock's time: every request, retry and backoff ends by then (a `timeout` error). */
  readonly deadline: number;
}

/**
 * Where S1's answers come from: a registry, an image catalog file, the simulator's
 * registry, a table in tests. A source answers one lookup; caching answers, one request
 * in flight per key, deadlines and pull-secret credentials are the image lookup
 * service's (app/image-lookup.ts), the same for every source.
 */
export interface ImageSource {
  /**
   * Who a lookup of `reference` with these credentials is made as: '' when no
   * credential would be sent, else a fingerprint of the credential(s) chosen. Answers
   * are cached per identity, so an answer only one pull secret may read is not given
   * to a pod without it.
   */
  identity(reference: ImageReference, credentials: readonly RegistryCredentials[]): string;
  lookup(reference: ImageReference, request: LookupRequest): Promise<ResolveResult>;
  /** An in-memory source's answer at once, without I/O (a catalog, the simulator); undefined when it would need a lookup. */
  peek?(reference: ImageReference): ResolveResult | undefined;
  close?(): Promise<void>;
}
