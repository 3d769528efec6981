/**
 * Manifests as registries serve them: OCI image index, OCI image manifest, Docker
 * manifest list and Docker schema2 manifest (the four types polyarch asks for), plus the
 * image config blob that says which platform a single manifest was built for.
 *
 * Pure: bytes in (as text), validated values or an error naming the field out. No
 * hashing here (digests are checked by the registry adapter, which has the bytes).
 */

import { z } from 'zod';
import { makePlatform, type ParseResult, type Platform } from '../platform/platform.ts';
import { formatPath } from '../field-path.ts';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** The Accept header for a manifest request: every type polyarch understands. */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const IMAGE_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.dockerSchema1, MEDIA_TYPES.dockerSchema1Signed, 'application/json']);

/** Docker buildx writes provenance/SBOM attestations as index entries with this annotation. */
export const ATTESTATION_ANNOTATION = 'vnd.docker.reference.type';

const digest = z.string().regex(/^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/, 'must be sha256:<64 hex> or sha512:<128 hex>');

const descriptor = z.object({
  mediaType: z.string().min(1),
  digest,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

const platformSchema = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptor.extend({ platform: platformSchema.optional() })),
});

const imageSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor),
});

const configSchema = z.object({
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().optional(),
});

/** One platform-specific manifest listed by an index. */
export interface IndexEntry {
  readonly platform: Platform;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The variant exactly as the index wrote it ('' when absent). */
  readonly declaredVariant: string;
}

export type Manifest =
  | {
      readonly kind: 'index';
      readonly mediaType: string;
      /** Runnable platform entries, in the index's order. */
      readonly entries: readonly IndexEntry[];
      /** Entries left out that a user may want to know about (not attestations). */
      readonly warnings: readonly string[];
    }
  | {
      readonly kind: 'image';
      readonly mediaType: string;
      readonly config: { readonly digest: string; readonly mediaType: string; readonly size: number };
    };

function describeIssues(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid';
  return `${formatPath(first.path) || '(root)'}: ${first.message}`;
}

function parseJson(text: string, what: string): ParseResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: `${what} is not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** Strips parameters such as `; charset=utf-8` from a Content-Type header. */
export function baseMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Parses a manifest body. The kind is decided by the body's own `mediaType` when it has
 * one, else by the Content-Type the registry sent, else by shape (old OCI manifests
 * carry no mediaType). Schema 1 is refused: it has no platform list and registries
 * stopped serving it.
 */
export function parseManifest(text: string, contentType?: string): ParseResult<Manifest> {
  const header = baseMediaType(contentType);
  const json = parseJson(text, 'manifest');
  if (!json.ok) return json;
  const body = json.value;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: 'manifest: (root): expected a JSON object' };
  const obj = body as Record<string, unknown>;
  const bodyType = typeof obj['mediaType'] === 'string' ? obj['mediaType'] : undefined;

  if (obj['schemaVersion'] === 1 || (header !== 'application/json' && SCHEMA1_TYPES.has(header)) || (bodyType !== undefined && SCHEMA1_TYPES.has(bodyType))) {
    return { ok: false, error: 'manifest: Docker image manifest schema 1 is not supported (deprecated; re-push the image with a current Docker or buildx to get schema 2 or OCI)' };
  }

  let mediaType = bodyType ?? (header && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined);
  if (bodyType !== undefined && header && (INDEX_TYPES.has(header) || IMAGE_TYPES.has(header)) && header !== bodyType) {
    return { ok: false, error: `manifest: mediaType "${bodyType}" in the body disagrees with Content-Type "${header}"` };
  }
  if (mediaType === undefined) {
    if (Array.isArray(obj['manifests'])) mediaType = MEDIA_TYPES.ociIndex;
    else if (obj['config'] !== undefined) mediaType = MEDIA_TYPES.ociManifest;
    else return { ok: false, error: 'manifest: no mediaType and neither "manifests" nor "config": not an image manifest or index' };
  }

  if (INDEX_TYPES.has(mediaType)) {
    const r = indexSchema.safeParse(body);
    if (!r.success) return { ok: false, error: `manifest index: ${describeIssues(r.error)}` };
    return { ok: true, value: indexEntries(mediaType, r.data.manifests) };
  }
  if (IMAGE_TYPES.has(mediaType)) {
    const r = imageSchema.safeParse(body);
    if (!r.success) return { ok: false, error: `image manifest: ${describeIssues(r.error)}` };
    const c = r.data.config;
    return { ok: true, value: { kind: 'image', mediaType, config: { digest: c.digest, mediaType: c.mediaType, size: c.size } } };
  }
  return { ok: false, error: `manifest: unsupported mediaType "${mediaType}"` };
}

function indexEntries(mediaType: string, manifests: z.infer<typeof indexSchema>['manifests']): Manifest {
  const entries: IndexEntry[] = [];
  const warnings: string[] = [];
  manifests.forEach((m, i) => {
    if (m.annotations?.[ATTESTATION_ANNOTATION] !== undefined) return;
    const p = m.platform;
    if (!p) {
      warnings.push(`index entry ${i} (${m.digest}) has no platform; ignored`);
      return;
    }
    if (p.os === 'unknown' && p.architecture === 'unknown') return;
    if (!IMAGE_TYPES.has(m.mediaType)) {
      warnings.push(`index entry ${i} (${p.os}/${p.architecture}) has mediaType ${m.mediaType}, not an image manifest; ignored`);
      return;
    }
    const platform = makePlatform(p.os, p.architecture, p.variant ?? '');
    if (!platform.ok) {
      warnings.push(`index entry ${i} (${m.digest}): ${platform.error}; ignored`);
      return;
    }
    entries.push({ platform: platform.value, digest: m.digest, mediaType: m.mediaType, size: m.size, declaredVariant: p.variant ?? '' });
  });
  return { kind: 'index', mediaType, entries, warnings };
}

export interface ImageConfigPlatform {
  /** Normalised (default variant filled in). */
  readonly platform: Platform;
  /** The variant exactly as the config wrote it ('' when absent). */
  readonly declaredVariant: string;
  readonly declaredArchitecture: string;
}

/** The platform an image config blob declares (architecture, os, variant). */
export function parseImageConfig(text: string): ParseResult<ImageConfigPlatform> {
  const json = parseJson(text, 'image config');
  if (!json.ok) return json;
  const r = configSchema.safeParse(json.value);
  if (!r.success) return { ok: false, error: `image config: ${describeIssues(r.error)}` };
  const p = makePlatform(r.data.os, r.data.architecture, r.data.variant ?? '');
  if (!p.ok) return { ok: false, error: `image config: ${p.error}` };
  return { ok: true, value: { platform: p.value, declaredVariant: r.data.variant ?? '', declaredArchitecture: r.data.architecture } };
}
