/**
 * S1, once: the image lookup service. Whatever answers (a registry, an image catalog
 * file, the simulator's registry: an ImageSource), every caller (the scheduler, the
 * extender, the admission webhook and its gate controller, `polyarch inspect` and
 * `polyarch schedule`, the simulator) goes through this one class, which owns
 *
 * - the answer cache, keyed by the normalised reference and the identity the lookup is
 *   made as (an answer only one pull secret may read is not given to a pod without it);
 * - one request in flight per key (single flight); a caller that gives up does not
 *   cancel the lookup for the others;
 * - transient vs permanent errors (`isTransientImageError`): how long a failure is remembered,
 *   and whether a caller waits and retries or gives up;
 * - deadlines: a whole-lookup deadline handed to the source (every request, retry and
 *   backoff ends by then), and a caller's own wait (`resolvePod`'s `waitMs`);
 * - pull-secret credentials of a pod (its imagePullSecrets, then its service account's);
 * - the negative record (core/exec-format): an image digest seen not to run on a platform
 *   (an exec format error) is removed from every answer, cached or fresh, so no caller
 *   offers it for that platform again.
 */
import { SingleFlight, TtlCache } from '../core/cache.ts';
import type { SpecImage } from '../core/admission/pod.ts';
import type { ResolvedImage } from '../core/admission/platforms.ts';
import { formatReference, parseReference, type ImageReference } from '../core/image/reference.ts';
import type { ImageInfo, ImageLookup } from '../core/placement/pod-info.ts';
import { BadPlatformIndex, withoutBadPlatforms, type BadPlatform } from '../core/exec-format/bad-platforms.ts';
import type { Clock } from '../ports/clock.ts';
import type { ImageSource, RegistryCredentials, ResolveError, ResolveResult } from '../ports/image-resolver.ts';

/** Errors a retry may cure (the registry is down, slow or busy), as opposed to the image being wrong. */
const TRANSIENT: ReadonlySet<ResolveError['kind']> = new Set(['unreachable', 'timeout', 'rate-limited', 'other']);

/** True when waiting and asking again may give another answer; false when the image itself is wrong or refused. */
export function isTransientImageError(error: ResolveError): boolean {
  return TRANSIENT.has(error.kind);
}

/** The parts of a pod its pull secrets are found from (core/k8s Pod and admission's PodLike both fit). */
export interface PullSecretPod {
  readonly metadata?: { readonly namespace?: string; readonly name?: string } | null;
  readonly spec?: { readonly imagePullSecrets?: readonly { readonly name?: string }[] | null; readonly serviceAccountName?: string } | null;
}

export interface ImageLookupOptions {
  readonly source: ImageSource;
  readonly clock: Clock;
  /** A pod's registry credentials (imagePullSecrets, then its service account's); without it pods get none of their own. */
  readonly pullSecrets?: (pod: PullSecretPod) => Promise<readonly RegistryCredentials[]>;
  /** Longest one lookup may take, all requests, retries and backoff included (default 30 s). */
  readonly deadlineMs?: number;
  /** Answers for a tag (default 5 min). */
  readonly cacheTtlMs?: number;
  /** Answers for a digest reference, immutable (default 24 h). */
  readonly digestTtlMs?: number;
  /** Permanent failures: not found, unauthorized, invalid, digest mismatch, too large (default 30 s). */
  readonly negativeTtlMs?: number;
  /** Transient failures: unreachable, timeout, rate-limited (default 5 s). */
  readonly transientTtlMs?: number;
  /** Cached answers kept at most, oldest written evicted first (default 10,000). */
  readonly maxEntries?: number;
}

export type ImagesResult = { ok: true; value: ResolvedImage[] } | { ok: false; error: ResolveError & { image: string } };

const PARSED_MAX = 4096;

type Parsed = { ok: true; ref: ImageReference; name: string } | { ok: false; result: ResolveResult };

/** The resolved images of a pod as S2's lookup reads them: reference -> its platforms. */
export function knownImages(resolved: readonly ResolvedImage[]): Map<string, ImageInfo> {
  return new Map<string, ImageInfo>(resolved.map((r) => [r.image.image, { ok: true, value: r.platforms }]));
}

export class ImageLookupService {
  private readonly answers: TtlCache<ResolveResult>;
  private readonly flight = new SingleFlight<ResolveResult>();
  private readonly bad = new BadPlatformIndex();
  /** References as parsed (a pod names few distinct images, asked about for every pod); emptied at PARSED_MAX. */
  private readonly parsed = new Map<string, Parsed>();
  private readonly o: Required<Omit<ImageLookupOptions, 'pullSecrets'>> & Pick<ImageLookupOptions, 'pullSecrets'>;

  constructor(options: ImageLookupOptions) {
    this.o = {
      deadlineMs: 30_000,
      cacheTtlMs: 5 * 60_000,
      digestTtlMs: 24 * 3_600_000,
      negativeTtlMs: 30_000,
      transientTtlMs: 5_000,
      maxEntries: 10_000,
      ...options,
    };
    this.answers = new TtlCache(options.clock, this.o.maxEntries);
  }

  /**
   * Adds (digest, platform) pairs seen not to run (exec format errors): from now on no
   * answer offers them. Returns how many were new.
   */
  noteBadPlatforms(entries: readonly BadPlatform[]): number {
    let added = 0;
    for (const e of entries) if (this.bad.add(e)) added++;
    return added;
  }

  /**
   * The record as the store has it now (entries someone removed are offered again): how
   * many pairs were added and removed.
   */
  replaceBadPlatforms(entries: readonly BadPlatform[]): { added: number; removed: number } {
    return this.bad.replace(entries);
  }

  /** The (digest, platform) pairs known not to run. */
  badPlatforms(): BadPlatform[] {
    return this.bad.entries();
  }

  /** An answer as callers get it: without the platforms seen not to run. */
  private honest(r: ResolveResult): ResolveResult {
    if (!r.ok) return r;
    const value = withoutBadPlatforms(r.value, this.bad);
    return value === r.value ? r : { ok: true, value };
  }

  /** Lookups running now (one per reference and identity). */
  get inFlight(): number {
    return this.flight.inFlight;
  }

  async close(): Promise<void> {
    await this.o.source.close?.();
  }

  /** The pod's pull-secret credentials; none when the service has no way to read them. */
  async credentialsOf(pod: PullSecretPod): Promise<readonly RegistryCredentials[]> {
    return this.o.pullSecrets ? this.o.pullSecrets(pod) : [];
  }

  /** A reference parsed and normalised (the name the cache keys on); undefined when it does not parse. */
  normalised(reference: string): { readonly ref: ImageReference; readonly name: string } | undefined {
    const p = this.parse(reference);
    return p.ok ? p : undefined;
  }

  private parse(reference: string): Parsed {
    const known = this.parsed.get(reference);
    if (known) return known;
    const parsed = parseReference(reference);
    const p: Parsed = parsed.ok
      ? { ok: true, ref: parsed.value, name: formatReference(parsed.value) }
      : { ok: false, result: { ok: false, error: { kind: 'invalid-reference', message: parsed.error } } };
    if (this.parsed.size >= PARSED_MAX) this.parsed.clear();
    this.parsed.set(reference, p);
    return p;
  }

  private hit(ref: ImageReference, name: string, identity: string): ResolveResult | undefined {
    const own = this.answers.get(`${name}|${identity}`);
    if (own) return this.honest(own);
    // What anyone may read (obtained with no credential) is good for every caller; a failure is not.
    if (identity !== '') {
      const open = this.answers.get(`${name}|`);
      if (open?.ok) return this.honest(open);
    }
    const peeked = this.o.source.peek?.(ref);
    return peeked && this.honest(peeked);
  }

  /** The answer from the cache (or an in-memory source) alone, never any I/O; undefined on a miss. */
  cached(reference: string, credentials: readonly RegistryCredentials[] = []): ResolveResult | undefined {
    const p = this.parse(reference);
    if (!p.ok) return p.result;
    return this.hit(p.ref, p.name, this.o.source.identity(p.ref, credentials));
  }

  /**
   * The answer, from the cache or one lookup shared by every caller asking the same
   * thing as the same identity. A caller whose `signal` aborts gets "lookup cancelled"
   * at once; the lookup itself carries on (to its deadline) and is cached for the others.
   */
  resolve(reference: string, options: { credentials?: readonly RegistryCredentials[]; signal?: AbortSignal } = {}): Promise<ResolveResult> {
    const p = this.parse(reference);
    if (!p.ok) return Promise.resolve(p.result);
    const credentials = options.credentials ?? [];
    const identity = this.o.source.identity(p.ref, credentials);
    const hit = this.hit(p.ref, p.name, identity);
    if (hit) return Promise.resolve(hit);
    if (options.signal?.aborted) return Promise.resolve(cancelled(p.name));
    const key = `${p.name}|${identity}`;
    const shared = this.flight.run(key, async () => {
      const deadline = this.o.clock.now() + this.o.deadlineMs;
      let r: ResolveResult;
      try {
        r = await this.o.source.lookup(p.ref, { credentials, deadline });
      } catch (err) {
        r = { ok: false, error: { kind: 'other', message: `${p.name}: ${err instanceof Error ? err.message : String(err)}` } };
      }
      this.answers.set(key, r, this.ttl(p.ref, r));
      return r;
    }).then((r) => this.honest(r));
    const signal = options.signal;
    if (!signal) return shared;
    return new Promise<ResolveResult>((resolve) => {
      const onAbort = (): void => resolve(cancelled(p.name));
      signal.addEventListener('abort', onAbort, { once: true });
      void shared.then((r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      });
    });
  }

  private ttl(ref: ImageReference, r: ResolveResult): number {
    if (r.ok) return ref.digest !== undefined ? this.o.digestTtlMs : this.o.cacheTtlMs;
    return isTransientImageError(r.error) ? this.o.transientTtlMs : this.o.negativeTtlMs;
  }

  /**
   * Cache only, for a pod's images (the admission path never waits on a registry). The
   * credentials default to none: a private answer read with a pod's pull secret is then
   * `missing`, and the pod waits for a lookup made with its own credentials.
   */
  cachedPod(images: readonly SpecImage[], credentials: readonly RegistryCredentials[] = []): { resolved: ResolvedImage[]; missing: SpecImage[]; failed: { image: SpecImage; error: ResolveError }[] } {
    const resolved: ResolvedImage[] = [];
    const missing: SpecImage[] = [];
    const failed: { image: SpecImage; error: ResolveError }[] = [];
    for (const image of images) {
      const r = image.image ? this.cached(image.image, credentials) : { ok: false as const, error: { kind: 'invalid-reference' as const, message: `container ${image.container}: no image` } };
      if (r === undefined) missing.push(image);
      else if (r.ok) resolved.push({ image, platforms: r.value });
      else failed.push({ image, error: r.error });
    }
    return { resolved, missing, failed };
  }

  /**
   * Every image of a pod, with the pod's pull secrets, waiting at most `waitMs` (a
   * kube-scheduler call or a controller pass must not hang on a slow registry; the
   * lookups carry on to their own deadline and are cached for the next call). The first
   * failure, if any (`settlePod` gives every one).
   */
  async resolvePod(pod: PullSecretPod, images: readonly SpecImage[], options: { waitMs: number; signal?: AbortSignal }): Promise<ImagesResult> {
    const r = await this.settlePod(pod, images, options);
    const first = r.failed[0];
    return first ? { ok: false, error: { ...first.error, image: first.image.image } } : { ok: true, value: r.resolved };
  }

  /**
   * As resolvePod, with the outcome of each image: those read, and those that failed (a
   * lookup still running after `waitMs` fails with kind `timeout`), in the pod's order.
   */
  async settlePod(pod: PullSecretPod, images: readonly SpecImage[], options: { waitMs: number; signal?: AbortSignal }): Promise<{ resolved: ResolvedImage[]; failed: { image: SpecImage; error: ResolveError }[] }> {
    const resolved: ResolvedImage[] = [];
    const failed: { image: SpecImage; error: ResolveError }[] = [];
    const named = images.filter((i) => {
      if (i.image) return true;
      failed.push({ image: i, error: { kind: 'invalid-reference', message: `container ${i.container}: no image` } });
      return false;
    });
    const credentials = await this.credentialsOf(pod);
    const refs = [...new Set(named.map((i) => i.image))];
    const results = new Map<string, ResolveResult>();
    const todo: string[] = [];
    for (const ref of refs) {
      const c = this.cached(ref, credentials);
      if (c !== undefined) results.set(ref, c);
      else todo.push(ref);
    }
    if (todo.length > 0) {
      const abort = new AbortController();
      const onAbort = (): void => abort.abort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const lookups = todo.map(async (ref) => results.set(ref, await this.resolve(ref, { credentials, signal: abort.signal })));
        const timer = this.o.clock.sleep(options.waitMs, abort.signal).then(() => 'timeout' as const, () => 'timeout' as const);
        await Promise.race([Promise.all(lookups), timer]);
      } finally {
        abort.abort();
        options.signal?.removeEventListener('abort', onAbort);
      }
      const late = todo.filter((ref) => !results.has(ref));
      for (const ref of late) results.set(ref, { ok: false, error: { kind: 'timeout', message: `registry lookup of ${late.join(', ')} took longer than ${options.waitMs} ms` } });
    }
    for (const image of named) {
      const r = results.get(image.image);
      if (!r) failed.push({ image, error: { kind: 'other', message: `no result for ${image.image}` } });
      else if (!r.ok) failed.push({ image, error: r.error });
      else resolved.push({ image, platforms: r.value });
    }
    return { resolved, failed };
  }

  /** Many references at once (the CLI's `schedule`), `concurrency` lookups at a time, failures kept as messages. */
  async resolveAll(references: readonly string[], options: { credentials?: readonly RegistryCredentials[]; concurrency?: number } = {}): Promise<{ lookup: ImageLookup; results: ReadonlyMap<string, ImageInfo> }> {
    const results = new Map<string, ImageInfo>();
    const queue = [...references];
    const worker = async (): Promise<void> => {
      for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
        const r = await this.resolve(ref, options.credentials ? { credentials: options.credentials } : {});
        results.set(ref, r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, queue.length)) }, worker));
    return { lookup: (ref) => results.get(ref), results };
  }
}

function cancelled(reference: string): ResolveResult {
  return { ok: false, error: { kind: 'other', message: `${reference}: lookup cancelled by the caller` } };
}
