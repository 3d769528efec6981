/**
 * What becomes of a pod when the platforms of some of its images cannot be read (issue
 * 17: the PlacementPolicy's `unreadableImages`): the one decision the webhook, its gate
 * controller, the extender and the scheduler all make, so the four give the same answer
 * for the same pod. Pure.
 *
 * - A failure no retry will cure (the image is unknown, refused, invalid: "permanent"):
 *   `Block` holds the pod with the reason; `Unconstrained` places it at once without a
 *   constraint from that image.
 * - A failure a retry may cure (the registry is down, slow or busy: "transient"): the pod
 *   waits; under `Unconstrained` it is placed without a constraint from that image once it
 *   is `releaseAfterMs` old (serve's --gate-release-after-ms, 10 min when that is 0); under
 *   `Block` it waits for as long as it takes.
 *
 * "Without a constraint from that image" means: the images that were read still narrow
 * the platforms (and get their variant written), the unreadable ones run as written on any
 * platform, and the namespace's policy (its allowed platforms) still applies.
 */
import type { EffectivePlacementPolicy, UnreadableAction } from './namespace-policy.ts';

/** How long an Unconstrained pod waits on a registry that does not answer, when serve's --gate-release-after-ms is 0 (its Block setting). */
export const DEFAULT_RELEASE_AFTER_MS = 600_000;

/** The built-in fallback (no policy says, or the pod is excluded from the policy), from serve's flags. */
export interface UnreadableFallback {
  readonly action: UnreadableAction;
  /** How old an Unconstrained pod must be before a transient failure releases it. */
  readonly releaseAfterMs: number;
}

/** serve's --gate-release-after-ms: 0 is Block (and an Unconstrained policy waits 10 min), otherwise Unconstrained after that long. */
export function fallbackFromReleaseAfter(releaseAfterMs: number): UnreadableFallback {
  return releaseAfterMs > 0 ? { action: 'Unconstrained', releaseAfterMs } : { action: 'Block', releaseAfterMs: DEFAULT_RELEASE_AFTER_MS };
}

/** One image whose platforms could not be read. */
export interface UnreadableImage {
  /** The reference as the pod names it (architecture-neutral). */
  readonly image: string;
  /** The container (for reasons). */
  readonly container: string;
  readonly message: string;
  /** Whether waiting and asking again may give another answer. */
  readonly transient: boolean;
}

export type UnreadableVerdict =
  /** Keep the pod waiting (gated, pending) and look again. */
  | { readonly action: 'wait'; readonly reason: string }
  /** Hold the pod: it is not placed, and says why. */
  | { readonly action: 'block'; readonly reason: string }
  /** Place the pod with no constraint from these images (`images`: their references). */
  | { readonly action: 'unconstrained'; readonly reason: string; readonly images: readonly string[] };

const describe = (failures: readonly UnreadableImage[]): string => failures.map((f) => `container ${f.container}: ${f.message}`).join('; ');

/**
 * The verdict for a pod some of whose images could not be read; undefined when every image
 * was read. `policy` is the pod's policy (namespace-policy.ts policyForPod: undefined when
 * the pod is excluded or no policy is read), `ageMs` the pod's age.
 */
export function unreadableVerdict(
  policy: EffectivePlacementPolicy | undefined, fallback: UnreadableFallback, failures: readonly UnreadableImage[], ageMs: number,
): UnreadableVerdict | undefined {
  if (failures.length === 0) return undefined;
  const action = policy?.unreadableImages ?? fallback.action;
  const permanent = failures.filter((f) => !f.transient);
  const images = [...new Set(failures.map((f) => f.image))];
  if (action === 'Block') {
    if (permanent.length > 0) return { action: 'block', reason: `held (unreadableImages: Block): ${describe(permanent)}` };
    return { action: 'wait', reason: `waiting for the platforms of ${images.join(', ')}: ${describe(failures)}` };
  }
  if (permanent.length === failures.length) {
    return { action: 'unconstrained', reason: `no platform constraint from ${images.join(', ')} (unreadableImages: Unconstrained): ${describe(failures)}`, images };
  }
  if (ageMs >= fallback.releaseAfterMs) {
    return { action: 'unconstrained', reason: `no platform constraint from ${images.join(', ')} after ${Math.round(ageMs / 1000)} s (unreadableImages: Unconstrained): ${describe(failures)}`, images };
  }
  return { action: 'wait', reason: `waiting for the platforms of ${images.join(', ')} (unreadableImages: Unconstrained releases it after ${Math.round(fallback.releaseAfterMs / 1000)} s): ${describe(failures)}` };
}

/** A pod's age from its creationTimestamp (0 when it has none, as at admission). */
export function podAgeMs(pod: { readonly metadata?: { readonly creationTimestamp?: unknown } | null }, nowMs: number): number {
  const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
  return Number.isFinite(created) ? Math.max(0, nowMs - created) : 0;
}
