/**
 * The image registry as the simulator sees it, built from the scenario's catalog: which
 * manifest a reference (tag or digest) names, so that (1) polyarch can resolve an image's
 * platforms (an ImageSource behind the one image lookup service, S1) and (2) the simulated
 * kubelet can tell what a node would actually pull and run (core/kube-model/runtime.ts, the
 * decision the fake API server's kubelet makes too): an index gives the node's platform or
 * fails to pull; a single-platform image for another architecture, or an index entry whose
 * binary is for another architecture than it says (catalog `binaries`), starts and dies
 * with `exec format error`.
 */
import { createHash } from 'node:crypto';
import type { ImageSource, ResolveResult } from '../ports/image-resolver.ts';
import type { ImagePlatforms, PlatformImage } from '../core/image/types.ts';
import { formatReference, parseReference, pinReference, type ImageReference } from '../core/image/reference.ts';
import { comparePlatforms, formatPlatform, parsePlatform, type Platform } from '../core/platform/platform.ts';
import { DEFAULT_ENTRYPOINT, runImage, runtimeImage, type RuntimeImage, type RuntimeOutcome } from '../core/kube-model/runtime.ts';
import type { CatalogImage } from './scenario/schema.ts';

const fakeDigest = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function normalise(ref: string): string | undefined {
  const r = parseReference(ref);
  return r.ok ? formatReference(r.value) : undefined;
}

export class SimRegistry implements ImageSource {
  private readonly entries = new Map<string, RuntimeImage>();
  /** What polyarch learns for a reference (S1), including per-arch tags found by convention. */
  private readonly answers = new Map<string, ImagePlatforms>();

  constructor(images: readonly CatalogImage[]) {
    for (const img of images) this.add(img);
  }

  /** One platform's manifest, pinned by digest; `binary` is what its binary really is (a lying entry differs). */
  private platformImage(ref: string, platform: Platform, binary: Platform, entrypoint: string): PlatformImage {
    const digest = fakeDigest(`${ref}|${formatPlatform(platform)}`);
    const parsed = parseReference(ref);
    const image = parsed.ok ? pinReference(parsed.value, digest) : `${ref}@${digest}`;
    this.entries.set(image, { index: false, entries: [{ platform, binary }], entrypoint });
    return { platform, digest, image };
  }

  private add(img: CatalogImage): void {
    const ref = normalise(img.reference);
    if (!ref) return;
    const entrypoint = img.entrypoint ?? DEFAULT_ENTRYPOINT;
    if ('platforms' in img) {
      const declared = runtimeImage(img);
      if (!declared.ok) return; // the scenario schema has checked the platforms
      const entries = [...declared.value.entries].sort((a, b) => comparePlatforms(a.platform, b.platform));
      const children = entries.map((e) => this.platformImage(ref, e.platform, e.binary, entrypoint));
      this.entries.set(ref, { ...declared.value, entries });
      this.answers.set(ref, { reference: ref, source: children.length === 1 ? 'manifest' : 'index', platforms: children, warnings: [] });
      return;
    }
    const children: PlatformImage[] = [];
    for (const [p, tagRef] of Object.entries(img.tags)) {
      const plat = parsePlatform(p);
      const tag = normalise(tagRef);
      if (!plat.ok || !tag) continue;
      const child = this.platformImage(tag, plat.value, plat.value, entrypoint);
      this.entries.set(tag, { index: false, entries: [{ platform: plat.value, binary: plat.value }], entrypoint });
      this.answers.set(tag, { reference: tag, source: 'manifest', platforms: [child], warnings: [] });
      children.push(child);
    }
    children.sort((a, b) => comparePlatforms(a.platform, b.platform));
    this.answers.set(ref, { reference: ref, source: 'tag-convention', platforms: children, warnings: [] });
  }

  /** What the registry answers for a reference (normalised first). */
  answer(reference: string): ResolveResult {
    const ref = normalise(reference);
    if (!ref) return { ok: false, error: { kind: 'invalid-reference', message: `${reference}: not an image reference` } };
    const a = this.answers.get(ref);
    if (a) return { ok: true, value: a };
    const only = this.entries.get(ref)?.entries[0];
    if (only) {
      const digest = ref.slice(ref.indexOf('@') + 1);
      return { ok: true, value: { reference: ref, source: 'manifest', platforms: [{ platform: only.platform, digest, image: ref }], warnings: [] } };
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

  /** What a container runtime on a node of `node` platform gets when it pulls and starts `reference` (core/kube-model/runtime.ts). */
  run(reference: string, node: Platform): RuntimeOutcome {
    return runImage(this.entries.get(normalise(reference) ?? reference), node);
  }
}
