/**
 * The placement policies of a `polyarch serve` process: one KubePlacementPolicies (two
 * informers) shared by the scheduler, extender and webhook roles of the process, started
 * by the first role's start() and waited for at most --cache-sync-timeout (a missing CRD
 * is logged and the built-in default applies meanwhile). The built-in default for
 * unreadable images comes from --gate-release-after-ms: 0 is Block, otherwise Unconstrained.
 */
import { KubePlacementPolicies } from '../../adapters/kube/placement-policies.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { fallbackFromReleaseAfter, type UnreadableFallback } from '../../core/placement/unreadable-images.ts';
import { parseDuration } from '../duration.ts';
import type { ServeContext } from './serve.ts';
import { kubeConfigFrom } from './serve-runtime.ts';

const books = new WeakMap<ServeContext, { policies: KubePlacementPolicies; ready: Promise<void> | undefined }>();

/** The cluster-wide fallback for images whose platforms cannot be read, from --gate-release-after-ms: the scheduler, the extender, the webhook and its gate controller all get it. */
export function unreadableFallback(ctx: ServeContext): UnreadableFallback {
  return fallbackFromReleaseAfter(Number(ctx.flags['gateReleaseAfterMs'] ?? 600_000));
}

export function policiesOf(ctx: ServeContext): KubePlacementPolicies {
  let b = books.get(ctx);
  if (!b) {
    const policies = new KubePlacementPolicies(kubeConfigFrom(ctx.flags), {
      clock: systemClock, log: ctx.log.child({ part: 'placement-policies' }), base: unreadableFallback(ctx).action, dryRun: ctx.flags['dryRun'] === true,
      // The scheduler's process writes each policy's Accepted condition (its RBAC has placementpolicies/status).
      writeStatus: ctx.flags['scheduler'] === true,
    });
    books.set(ctx, (b = { policies, ready: undefined }));
  }
  return b.policies;
}

/**
 * Starts the policy informers once (stopped when `signal` aborts) and returns at once: a
 * role's start() checks its listeners, and serve checks the API server, before anything
 * waits on a list. `policiesSynced` is what serve awaits, after the API server answered.
 */
export function startPolicies(ctx: ServeContext, signal: AbortSignal): Promise<void> {
  // A failure surfaces where serve awaits policiesSynced; handled here so it is never an unhandled rejection meanwhile.
  syncPolicies(ctx, signal).catch(() => undefined);
  return Promise.resolve();
}

/** The first lists of the policy informers, waited for at most --cache-sync-timeout (resolved at once when no role started them). */
export function policiesSynced(ctx: ServeContext): Promise<void> {
  return books.get(ctx)?.ready ?? Promise.resolve();
}

function syncPolicies(ctx: ServeContext, signal: AbortSignal): Promise<void> {
  const policies = policiesOf(ctx);
  const b = books.get(ctx);
  if (!b) throw new Error('startPolicies: no book');
  b.ready ??= (async () => {
    signal.addEventListener('abort', () => void policies.stop(), { once: true });
    const timeout = parseDuration(String(ctx.flags.cacheSyncTimeout)) ?? 120_000;
    const limit = new AbortController();
    const stopWaiting = (): void => limit.abort();
    signal.addEventListener('abort', stopWaiting, { once: true });
    const waited = await Promise.race([
      policies.start().then(() => 'synced' as const),
      systemClock.sleep(timeout, limit.signal).then(() => 'timeout' as const, () => 'aborted' as const),
    ]);
    limit.abort();
    signal.removeEventListener('abort', stopWaiting);
    if (waited === 'timeout') ctx.log.warn({}, 'placement policies not listed within --cache-sync-timeout (is the PlacementPolicy CRD installed?); the built-in default applies until they are');
  })();
  return b.ready;
}
