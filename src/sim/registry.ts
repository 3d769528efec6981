/**
 * The image registry as the simulator sees it, built from the scenario's catalog: which
 * manifest a reference (tag or digest) names, so that (1) polyarch can resolve an image's
 * platforms (an ImageSource behind the one image lookup service, S1) and (2) the simulated kubelet can tell what a
 * node would actually pull and run: an index gives the node's platform or fails to pull;
 * a single-platform image for another architecture starts and dies with
 * `exec format error`.
 */
import { createHash } from 'node:crypto';
import type { ImageSource, ResolveResult } from '../ports/image-resolver.ts';
import type { ImagePlatforms, PlatformImage } from '../core/image/types.ts';
import { formatReference, parseReference, pinReference, type ImageReference } from '../core/image/reference.ts';
import { canRun, comparePlatforms, formatPlatform, parsePlatform, variantFit, type Platform } from '../core/platform/platform.ts';
import type { CatalogImage } from './scenario/schema.ts';

type Entry =
  | { kind: 'index'; children: PlatformImage[] }
  | { kind: 'manifest'; platform: Platform; digest: string };

export type PullOutcome =
  | { ok: true; platform: Platform }
  | { ok: false; failure: 'exec format error'; platform: Platform }
  | { ok: false; failure: 'no matching manifest for platform' }
  | { ok: false; failure: 'not found' };

const fakeDigest = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function normalise(ref: string): string | undefined {
  const r = parseReference(ref);
  return r.ok ? formatReference(r.value) : undefined;
}

export class SimRegistry implements ImageSource {
  private readonly entries = new Map<string, Entry>();
  /** What polyarch learns for a reference (S1), including per-arch tags found by convention. */
  private readonly answers = new Map<string, ImagePlatforms>();

  constructor(images: readonly CatalogImage[]) {
    for (const img of images) this.add(img);
  }

  private platformImage(ref: string, platform: Platform): PlatformImage {
    const digest = fakeDigest(`${ref}|${formatPlatform(platform)}`);
    const parsed = parseReference(ref);
    const image = parsed.ok ? pinReference(parsed.value, digest) : `${ref}@${digest}`;
    this.entries.set(image, { kind: 'manifest', platform, digest });
    return { platform, digest, image };
  }

  private add(img: CatalogImage): void {
    const ref = normalise(img.reference);
    if (!ref) return;
    const sortP = (a: PlatformImage, b: PlatformImage): number => comparePlatforms(a.platform, b.platform);
    if ('platforms' in img) {
      const plats = img.platforms.map((p) => parsePlatform(p)).flatMap((r) => (r.ok ? [r.value] : []));
      const children = plats.map((p) => this.platformImage(ref, p)).sort(sortP);
      if (children.length === 1) {
        const only = children[0]!;
        this.entries.set(ref, { kind: 'manifest', platform: only.platform, digest: only.digest });
        this.answers.set(ref, { reference: ref, source: 'manifest', platforms: children, warnings: [] });
      } else {
        this.entries.set(ref, { kind: 'index', children });
        this.answers.set(ref, { reference: ref, source: 'index', platforms: children, warnings: [] });
      }
      return;
    }
    const children: PlatformImage[] = [];
    for (const [p, tagRef] of Object.entries(img.tags)) {
      const plat = parsePlatform(p);
      const tag = normalise(tagRef);
      if (!plat.ok || !tag) continue;
      const child = this.platformImage(tag, plat.value);
      this.entries.set(tag, { kind: 'manifest', platform: plat.value, digest: child.digest });
      this.answers.set(tag, { reference: tag, source: 'manifest', platforms: [child], warnings: [] });
      children.push(child);
    }
    children.sort(sortP);
    this.answers.set(ref, { reference: ref, source: 'tag-convention', platforms: children, warnings: [] });
  }

  /** What the registry answers for a reference (normalised first). */
  answer(reference: string): ResolveResult {
    const ref = normalise(reference);
    if (!ref) return { ok: false, error: { kind: 'invalid-reference', message: `${reference}: not an image reference` } };
    const a = this.answers.get(ref);
    if (a) return { ok: true, value: a };
    const e = this.entries.get(ref);
    if (e?.kind === 'manifest') {
      return { ok: true, value: { reference: ref, source: 'manifest', platforms: [{ platform: e.platform, digest: e.digest, image: ref }], warnings: [] } };
    }
    return { ok: false, error: { kind: 'not-found', message: `${ref}: not in the scenario's image catalog` } };
  }

  identity(): string {
    return '';
  }

  peek(ref: ImageReference): ResolveResult {
    return this.answer(formatReference(ref));
  }

  lookup(ref: ImageReference): Promise<ResolveResult> {
    return Promise.resolve(this.peek(ref));
  }

  /** What a container runtime on a node of `node` platform gets when it pulls `reference`. */
  pull(reference: string, node: Platform): PullOutcome {
    const ref = normalise(reference) ?? reference;
    const e = this.entries.get(ref);
    if (!e) return { ok: false, failure: 'not found' };
    if (e.kind === 'manifest') {
      // Runtimes pull a single-platform image whatever its platform; the binary then fails to exec.
      return canRun(e.platform, node) ? { ok: true, platform: e.platform } : { ok: false, failure: 'exec format error', platform: e.platform };
    }
    let best: PlatformImage | undefined;
    let bestFit = -1;
    for (const c of e.children) {
      const fit = variantFit(c.platform, node);
      if (fit !== undefined && fit > bestFit) {
        best = c;
        bestFit = fit;
      }
    }
    return best ? { ok: true, platform: best.platform } : { ok: false, failure: 'no matching manifest for platform' };
  }
}
