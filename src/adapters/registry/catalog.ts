/**
 * An offline image catalog: an ImageSource that answers from a file instead of a
 * registry, for `polyarch schedule --images FILE`, `serve --images`, tests and
 * air-gapped clusters. In memory, so the lookup service reads it without waiting (peek).
 *
 * Two shapes are accepted (JSON or YAML):
 *
 * 1. What `polyarch inspect --output json IMAGE` prints, one object or many: an array,
 *    concatenated JSON objects (`for i in ...; do polyarch inspect -o json $i; done`),
 *    or YAML documents:
 *      {"reference": "...", "source": "index", "platforms": [{"os": "linux",
 *       "architecture": "arm64", "variant": "v8", "image": "repo@sha256:..."}], "warnings": []}
 *
 * 2. A hand-written map:
 *      images:
 *        registry.example.com/shop/web:1.4:
 *          - platform: linux/amd64
 *            digest: sha256:...
 *          - platform: linux/arm64
 *            image: registry.example.com/shop/web:1.4-arm64@sha256:...   # per-arch tag
 */

import { readFile } from 'node:fs/promises';
import { yamlValues } from '../yaml-documents.ts';
import { z } from 'zod';
import { formatReference, parseReference, repositoryName, type ImageReference } from '../../core/image/reference.ts';
import type { ImagePlatforms, PlatformImage, PlatformSource } from '../../core/image/types.ts';
import { comparePlatforms, makePlatform, parsePlatform, type Platform } from '../../core/platform/platform.ts';
import type { ImageSource, ResolveResult } from '../../ports/image-resolver.ts';
import { formatPath } from '../../core/field-path.ts';

const DIGEST = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;
const digest = z.string().regex(DIGEST, 'expected sha256:<64 hex> (or sha512)');

const inspectPlatform = z.looseObject({
  os: z.string().min(1),
  architecture: z.string().min(1),
  variant: z.string().optional(),
  image: z.string().min(1).optional(),
  digest: digest.optional(),
});

const inspectOutput = z.looseObject({
  reference: z.string().min(1),
  source: z.enum(['index', 'manifest', 'tag-convention', 'catalog']).optional(),
  platforms: z.array(inspectPlatform),
  warnings: z.array(z.string()).optional(),
});

const mapEntry = z.looseObject({
  platform: z.string().min(1),
  digest: digest.optional(),
  image: z.string().min(1).optional(),
});

const imageMap = z.looseObject({ images: z.record(z.string(), z.array(mapEntry)) });

export type CatalogResult = { ok: true; value: ImageCatalog } | { ok: false; error: string };


export class ImageCatalog implements ImageSource {
  constructor(private readonly entries: ReadonlyMap<string, ImagePlatforms>, readonly origin: string) {}

  get size(): number {
    return this.entries.size;
  }

  references(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The catalog's answer for a reference (normalised first). */
  answer(reference: string): ResolveResult {
    const ref = parseReference(reference);
    if (!ref.ok) return { ok: false, error: { kind: 'invalid-reference', message: ref.error } };
    return this.peek(ref.value);
  }

  identity(): string {
    return '';
  }

  peek(ref: ImageReference): ResolveResult {
    const name = formatReference(ref);
    const hit = this.entries.get(name);
    if (hit) return { ok: true, value: hit };
    return { ok: false, error: { kind: 'not-found', message: `image ${name} is not in the image catalog ${this.origin}` } };
  }

  lookup(ref: ImageReference): Promise<ResolveResult> {
    return Promise.resolve(this.peek(ref));
  }
}

/** Splits concatenated JSON values (`{...}{...}` or one per line) without parsing them. */
function splitJsonValues(text: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) out.push(text.slice(start, i + 1));
    } else if (depth === 0 && c !== undefined && !/\s/.test(c)) return undefined;
  }
  return depth === 0 ? out : undefined;
}

function parseDocuments(text: string, origin: string): { ok: true; value: unknown[] } | { ok: false; error: string } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parts = splitJsonValues(text);
    if (parts) {
      const values: unknown[] = [];
      for (const [i, p] of parts.entries()) {
        try {
          values.push(JSON.parse(p));
        } catch (err) {
          return { ok: false, error: `${origin}: JSON value ${i + 1}: ${(err as Error).message}` };
        }
      }
      return { ok: true, value: values };
    }
  }
  const docs = yamlValues(text);
  if (!docs.ok) return { ok: false, error: `${origin}: ${docs.error}` };
  return { ok: true, value: docs.value.filter((v) => v !== null && v !== undefined) };
}

function entry(reference: string, source: PlatformSource, platforms: PlatformImage[], warnings: readonly string[]): ImagePlatforms {
  return { reference, source, platforms: [...platforms].sort((a, b) => comparePlatforms(a.platform, b.platform)), warnings };
}

/** A pinned reference and its digest from `image` and/or `digest`. */
function pin(repo: string, image: string | undefined, dg: string | undefined, where: string): { ok: true; value: { image: string; digest: string } } | { ok: false; error: string } {
  if (image !== undefined) {
    const r = parseReference(image);
    if (!r.ok) return { ok: false, error: `${where}.image: ${r.error}` };
    const d = r.value.digest ?? dg;
    if (!d) return { ok: false, error: `${where}: image "${image}" has no digest and no digest is given` };
    if (dg && r.value.digest && dg !== r.value.digest) return { ok: false, error: `${where}: digest ${dg} differs from the image's ${r.value.digest}` };
    return { ok: true, value: { image: `${repositoryName(r.value)}@${d}`, digest: d } };
  }
  if (!dg) return { ok: false, error: `${where}: give digest or image` };
  return { ok: true, value: { image: `${repo}@${dg}`, digest: dg } };
}

/** Parses a catalog's text; errors name the file, the entry and the field. */
export function parseImageCatalog(text: string, origin: string): CatalogResult {
  const docs = parseDocuments(text, origin);
  if (!docs.ok) return docs;
  const entries = new Map<string, ImagePlatforms>();
  const add = (reference: string, where: string, make: (repo: string) => { ok: true; value: PlatformImage[] } | { ok: false; error: string }, source: PlatformSource, warnings: readonly string[]): { ok: true } | { ok: false; error: string } => {
    const ref = parseReference(reference);
    if (!ref.ok) return { ok: false, error: `${where}: ${ref.error}` };
    const key = formatReference(ref.value);
    const platforms = make(repositoryName(ref.value));
    if (!platforms.ok) return platforms;
    entries.set(key, entry(key, source, platforms.value, warnings));
    return { ok: true };
  };
  const fromInspect = (raw: unknown, where: string): { ok: true } | { ok: false; error: string } => {
    const r = inspectOutput.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      return { ok: false, error: `${where}: ${issue ? formatPath(issue.path) || 'object' : 'object'}: ${issue?.message ?? 'invalid'}` };
    }
    const v = r.data;
    return add(v.reference, where, (repo) => {
      const out: PlatformImage[] = [];
      for (const [j, p] of v.platforms.entries()) {
        const at = `${where}: platforms[${j}]`;
        const platform = makePlatform(p.os, p.architecture, p.variant ?? '');
        if (!platform.ok) return { ok: false, error: `${at}: ${platform.error}` };
        const pinned = pin(repo, p.image, p.digest, at);
        if (!pinned.ok) return pinned;
        out.push({ platform: platform.value, ...pinned.value });
      }
      return { ok: true, value: out };
    }, v.source ?? 'catalog', v.warnings ?? []);
  };

  for (const [i, doc] of docs.value.entries()) {
    const where = `${origin}: document ${i + 1}`;
    if (Array.isArray(doc)) {
      for (const [j, item] of doc.entries()) {
        const r = fromInspect(item, `${where} [${j}]`);
        if (!r.ok) return r;
      }
      continue;
    }
    if (doc !== null && typeof doc === 'object' && 'images' in doc) {
      const m = imageMap.safeParse(doc);
      if (!m.success) {
        const issue = m.error.issues[0];
        return { ok: false, error: `${where}: ${issue ? formatPath(issue.path) : 'images'}: ${issue?.message ?? 'invalid'}` };
      }
      for (const [reference, list] of Object.entries(m.data.images)) {
        const at = `${where}: images["${reference}"]`;
        const r = add(reference, at, (repo) => {
          const out: PlatformImage[] = [];
          const seen = new Set<string>();
          for (const [j, e] of list.entries()) {
            const platform: { ok: true; value: Platform } | { ok: false; error: string } = parsePlatform(e.platform);
            if (!platform.ok) return { ok: false, error: `${at}[${j}].platform: ${platform.error}` };
            const key = `${platform.value.os}/${platform.value.architecture}/${platform.value.variant}`;
            if (seen.has(key)) return { ok: false, error: `${at}[${j}].platform: ${e.platform} is listed twice` };
            seen.add(key);
            const pinned = pin(repo, e.image, e.digest, `${at}[${j}]`);
            if (!pinned.ok) return pinned;
            out.push({ platform: platform.value, ...pinned.value });
          }
          return { ok: true, value: out };
        }, 'catalog', []);
        if (!r.ok) return r;
      }
      continue;
    }
    const r = fromInspect(doc, where);
    if (!r.ok) return r;
  }
  return { ok: true, value: new ImageCatalog(entries, origin) };
}

export async function loadImageCatalog(file: string): Promise<CatalogResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, error: `${file}: cannot read${code ? ` (${code})` : ''}` };
  }
  return parseImageCatalog(text, file);
}
