import type { Platform } from '../platform/platform.ts';

/** Where the platforms of an image were learnt. */
export type PlatformSource = 'index' | 'manifest' | 'tag-convention' | 'catalog';

/** One platform an image exists for, and the reference that pulls exactly it. */
export interface PlatformImage {
  readonly platform: Platform;
  /** Digest of that platform's manifest. */
  readonly digest: string;
  /** A reference pinned by digest: registry/repository@sha256:... */
  readonly image: string;
  /**
   * The variant exactly as the registry stated it (index entry or image config; ''
   * when it stated none), where `platform.variant` is normalised (arm64 -> v8).
   * Absent when the answer did not come from a registry (a catalog, the simulator).
   */
  readonly declaredVariant?: string;
}

/** The answer to S1: for this reference, which platforms exist and which digest serves each. */
export interface ImagePlatforms {
  /** The normalised reference that was asked for. */
  readonly reference: string;
  readonly source: PlatformSource;
  /** Sorted by os, architecture, variant. */
  readonly platforms: readonly PlatformImage[];
  readonly warnings: readonly string[];
  /**
   * Entries the registry lists under the reference that are not offered in `platforms`
   * (seen not to run: exec format errors). A node's runtime still pulls them.
   */
  readonly withheld?: readonly PlatformImage[];
}

/** An image needs its reference rewritten per platform unless the registry serves every platform under it (an index) or there is only one. */
export function needsVariantWrite(p: Pick<ImagePlatforms, 'source'>): boolean {
  return p.source === 'tag-convention' || p.source === 'catalog';
}
