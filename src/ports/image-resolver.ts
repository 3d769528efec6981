import type { ImagePlatforms } from '../core/image/types.ts';

/** Why an image could not be resolved; `kind` lets callers decide (retry, event, refuse). */
export interface ResolveError {
  readonly kind: 'invalid-reference' | 'not-found' | 'unauthorized' | 'unreachable' | 'invalid-manifest' | 'digest-mismatch' | 'too-large' | 'rate-limited' | 'timeout' | 'other';
  /** One line naming the image, the registry and the cause. */
  readonly message: string;
}

export type ResolveResult = { ok: true; value: ImagePlatforms } | { ok: false; error: ResolveError };

/** Docker config.json style credentials (also a `.dockerconfigjson` pull secret). */
export interface RegistryCredentials {
  readonly auths: Readonly<Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>>;
}

export interface ResolveOptions {
  /** Extra credentials for this lookup (a pod's imagePullSecrets). */
  readonly credentials?: readonly RegistryCredentials[];
  readonly signal?: AbortSignal;
}

/**
 * S1: which platforms an image exists for. Implemented by the registry client and by
 * an offline catalog; `cached` answers without any I/O (the admission path must never wait).
 */
export interface ImageResolver {
  resolve(reference: string, options?: ResolveOptions): Promise<ResolveResult>;
  cached(reference: string): ResolveResult | undefined;
}
