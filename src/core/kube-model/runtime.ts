/**
 * What a node's container runtime (containerd with runc) does with an image reference:
 * pull the manifest for the node's platform, then exec the entrypoint. One decision for
 * both models of a kubelet (the simulator's SimKubelet and the fake API server's kubelet
 * controller).
 *
 * - An image index (manifest list) gives the entry that best fits the node (containerd's
 *   platform matcher); none fits: the pull fails, `no match for platform in manifest`.
 * - A single-platform image is pulled whatever its platform (containerd does not check a
 *   plain manifest's config against the node).
 * - The binary then runs or not: an entry whose binary is for another architecture than
 *   the entry says (an index entry that lies: it says linux/arm64, the binary is amd64),
 *   or a single-platform image for another architecture, fails in execve with ENOEXEC.
 *   runc execs the entrypoint after `runc start` opened the exec fifo, so the start
 *   succeeds and the container exits at once (see kubelet.ts for the status it reports).
 */
import { canRun, parsePlatform, variantFit, type Platform } from '../platform/platform.ts';

/** One image as a runtime sees it: its manifest (or index entries), and what each entry's binary really is. */
export interface RuntimeImage {
  /** Index (several entries, or declared as an index) or a single-platform manifest. */
  readonly index: boolean;
  readonly entries: readonly RuntimeImageEntry[];
  /** The entrypoint's path, as runc's error names it (`exec /app: exec format error`). */
  readonly entrypoint: string;
}

export interface RuntimeImageEntry {
  /** The platform the manifest (or index entry) declares. */
  readonly platform: Platform;
  /** The platform the binary was built for; differs from `platform` when the entry lies. */
  readonly binary: Platform;
}

export type RuntimeOutcome =
  /** Pulled and runs; `platform` is the entry pulled, when the image is known. */
  | { readonly kind: 'runs'; readonly platform?: Platform }
  /** Pulled, started, and exited at once: the binary is for another architecture. */
  | { readonly kind: 'exec-format-error'; readonly platform: Platform; readonly binary: Platform; readonly entrypoint: string }
  /** The index has no entry for the node's platform (ErrImagePull). */
  | { readonly kind: 'no-matching-manifest' }
  /** The registry does not know the reference (ErrImagePull). */
  | { readonly kind: 'not-found' };

export const DEFAULT_ENTRYPOINT = '/app';

/** What pulling and starting `image` on a node of platform `node` gives. */
export function runImage(image: RuntimeImage | undefined, node: Platform): RuntimeOutcome {
  if (!image || image.entries.length === 0) return { kind: 'not-found' };
  let chosen: RuntimeImageEntry | undefined;
  if (!image.index) chosen = image.entries[0];
  else {
    let bestFit = -1;
    for (const e of image.entries) {
      const fit = variantFit(e.platform, node);
      if (fit !== undefined && fit > bestFit) {
        chosen = e;
        bestFit = fit;
      }
    }
  }
  if (!chosen) return { kind: 'no-matching-manifest' };
  return canRun(chosen.binary, node)
    ? { kind: 'runs', platform: chosen.platform }
    : { kind: 'exec-format-error', platform: chosen.platform, binary: chosen.binary, entrypoint: image.entrypoint };
}

/**
 * A declared image, as a scenario's catalog or the fake API server's kubelet option writes
 * it: `platforms` (one: a single-platform image; several: an index), `binaries` (an entry
 * whose binary is for another platform: `{linux/arm64: linux/amd64}`), `entrypoint`.
 * Errors name the field.
 */
export interface DeclaredImage {
  readonly platforms: readonly string[];
  readonly binaries?: Readonly<Record<string, string>> | undefined;
  readonly entrypoint?: string | undefined;
  /** Force an index even with one entry (a one-entry manifest list). */
  readonly index?: boolean | undefined;
}

export function runtimeImage(d: DeclaredImage): { ok: true; value: RuntimeImage } | { ok: false; error: string } {
  const entries: RuntimeImageEntry[] = [];
  for (const [i, text] of d.platforms.entries()) {
    const p = parsePlatform(text);
    if (!p.ok) return { ok: false, error: `platforms[${i}]: ${p.error}` };
    const lie = d.binaries?.[text];
    let binary = p.value;
    if (lie !== undefined) {
      const b = parsePlatform(lie);
      if (!b.ok) return { ok: false, error: `binaries.${text}: ${b.error}` };
      binary = b.value;
    }
    entries.push({ platform: p.value, binary });
  }
  for (const k of Object.keys(d.binaries ?? {})) {
    if (!d.platforms.includes(k)) return { ok: false, error: `binaries.${k}: not one of the image's platforms` };
  }
  return { ok: true, value: { index: d.index ?? entries.length > 1, entries, entrypoint: d.entrypoint ?? DEFAULT_ENTRYPOINT } };
}

/** A failed outcome in a few words (`exec format error`, `no matching manifest for platform`, `not found`). */
export function describeOutcome(o: RuntimeOutcome): string {
  switch (o.kind) {
    case 'runs': return 'runs';
    case 'exec-format-error': return 'exec format error';
    case 'no-matching-manifest': return 'no matching manifest for platform';
    case 'not-found': return 'not found';
  }
}
