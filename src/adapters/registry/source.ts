/**
 * The ImageSource on a real registry (step S1): for an image reference, which platforms
 * exist and which digest serves each — from an index / manifest list, from a single
 * manifest and its config, and from per-architecture tags and repositories found by
 * naming convention, each confirmed by its config. What is immutable (manifests and
 * configs by digest) is cached here, per credential; answers, single flight and
 * deadlines are the image lookup service's (app/image-lookup.ts). See docs/registry.md.
 */
import { createHash } from 'node:crypto';
import { candidateName, confirmCandidate, confirmIndexEntry, conventionCandidates, namedArchitecture, DEFAULT_ARCHITECTURES, type ConventionCandidate, type ConventionStyle } from '../../core/image/convention.ts';
import { parseImageConfig, parseManifest, type ImageConfigPlatform, type IndexEntry, type Manifest } from '../../core/image/manifest.ts';
import { formatReference, type ImageReference } from '../../core/image/reference.ts';
import type { ImagePlatforms, PlatformImage } from '../../core/image/types.ts';
import { comparePlatforms, formatPlatform, samePlatform, type Platform } from '../../core/platform/platform.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ImageSource, LookupRequest, RegistryCredentials, ResolveResult } from '../../ports/image-resolver.ts';
import { systemClock } from '../system-clock.ts';
import { TtlCache } from '../../core/cache.ts';
import { RegistryClient, type ClientLimits, type Endpoint } from './client.ts';
import { findCredential, type Credential } from './credentials.ts';
import { deadlineIn, type Deadline, type Fail, type Result } from './http.ts';

export interface RegistrySourceOptions {
  clock?: Clock;
  /** Credentials of the process (an --auth-file); a call's own credentials come first. */
  credentials?: readonly RegistryCredentials[];
  /** Hosts spoken to over plain HTTP besides loopback ones (Docker's --insecure-registry). */
  insecureRegistries?: readonly string[];
  /** Registry -> mirrors tried first, in order (e.g. { 'docker.io': ['mirror.example:5000'] }). */
  mirrors?: Readonly<Record<string, readonly string[]>>;
  /** Architectures looked for by tag convention (canonical names). */
  architectures?: readonly string[];
  /** Conventions looked for (all by default; [] turns the search off). */
  conventions?: readonly ConventionStyle[];
  /** Spellings tried for REPO-ARCH:TAG, one request each (tag styles use the tag list and try every alias). */
  repositorySuffixSpellings?: readonly string[];
  /** Parsed manifests and config platforms, by digest (immutable content). */
  digestTtlMs?: number;
  /** Convention candidates found absent. */
  absentTtlMs?: number;
  /** Index entries whose config is checked against the platform the index claims (default 32). */
  maxIndexChecks?: number;
  maxCacheEntries?: number;
  /** Per request: to response headers and between body chunks. */
  timeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
  maxRetryAfterMs?: number;
  limits?: Partial<ClientLimits>;
}

export const DEFAULT_LIMITS: ClientLimits = {
  manifestBytes: 4 * 1024 * 1024,
  configBytes: 8 * 1024 * 1024,
  tokenBytes: 1024 * 1024,
  tagPageBytes: 4 * 1024 * 1024,
  tagPages: 100,
  tagPageSize: 1000,
};

/** The spellings Docker's official images and common CI setups use in repository names. */
export const DEFAULT_REPOSITORY_SPELLINGS: readonly string[] = ['amd64', 'x86_64', 'arm64', 'aarch64', 'arm64v8', 'arm', 'armv7', 'arm32v7', 'arm32v6', 'loong64', 'riscv64', 'ppc64le', 's390x', 'mips64le', '386', 'i386'];

const UPSTREAM: Readonly<Record<string, string>> = { 'docker.io': 'registry-1.docker.io' };
const PARALLEL = 8;
/** Failures of an index entry's check that fail the whole lookup (to be retried), rather than leaving the entry out. */
const TRANSIENT_FAIL: ReadonlySet<Fail['kind']> = new Set(['unreachable', 'timeout', 'rate-limited']);

export class RegistrySource implements ImageSource {
  private readonly client: RegistryClient;
  private readonly clock: Clock;
  /** Keyed by the credential they were read with and the digest: private content is not served to another identity. */
  private readonly configs: TtlCache<ImageConfigPlatform>;
  private readonly manifests: TtlCache<Manifest>;
  /** Convention candidates found absent, so refreshing a result does not probe them all again. */
  private readonly absent: TtlCache<true>;
  private readonly o: Required<Omit<RegistrySourceOptions, 'clock' | 'limits'>>;

  constructor(options: RegistrySourceOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.o = {
      credentials: options.credentials ?? [],
      insecureRegistries: options.insecureRegistries ?? [],
      mirrors: options.mirrors ?? {},
      architectures: options.architectures ?? DEFAULT_ARCHITECTURES,
      conventions: options.conventions ?? ['tag-suffix', 'tag-prefix', 'repository-suffix'],
      repositorySuffixSpellings: options.repositorySuffixSpellings ?? DEFAULT_REPOSITORY_SPELLINGS,
      digestTtlMs: options.digestTtlMs ?? 24 * 3_600_000,
      absentTtlMs: options.absentTtlMs ?? 30_000,
      maxIndexChecks: options.maxIndexChecks ?? 32,
      maxCacheEntries: options.maxCacheEntries ?? 10_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      attempts: options.attempts ?? 3,
      backoffMs: options.backoffMs ?? 250,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    };
    this.client = new RegistryClient({
      clock: this.clock,
      timeoutMs: this.o.timeoutMs,
      attempts: this.o.attempts,
      backoffMs: this.o.backoffMs,
      maxRetryAfterMs: this.o.maxRetryAfterMs,
      insecureRegistries: this.o.insecureRegistries,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
    });
    const max = this.o.maxCacheEntries;
    this.configs = new TtlCache(this.clock, max);
    this.manifests = new TtlCache(this.clock, max);
    this.absent = new TtlCache(this.clock, max);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  identity(ref: ImageReference, credentials: readonly RegistryCredentials[]): string {
    return this.endpoints(ref, credentials).map((ep) => credentialId(ep.credential)).filter((id) => id !== '').join(',');
  }

  async lookup(ref: ImageReference, request: LookupRequest): Promise<ResolveResult> {
    const name = formatReference(ref);
    const deadline = deadlineIn(this.clock, request.deadline - this.clock.now());
    const mirrorWarnings: string[] = [];
    const eps = this.endpoints(ref, request.credentials);
    let last: Fail | undefined;
    for (const [i, ep] of eps.entries()) {
      const r = await this.lookupAt(ep, ref, deadline);
      if (r.ok) return { ok: true, value: { ...r.value, warnings: [...mirrorWarnings, ...deadline.warnings, ...r.value.warnings] } };
      last = r.error;
      if (i < eps.length - 1) mirrorWarnings.push(`mirror ${ep.host} failed (${r.error.cause}); used the next endpoint`);
    }
    const error = last ?? { kind: 'other' as const, cause: 'no endpoint' };
    const notes = deadline.warnings.length > 0 ? ` (${deadline.warnings.join('; ')})` : '';
    return { ok: false, error: { kind: error.kind, message: `${name}: ${error.cause}${notes}`.replace(/\s*\n\s*/g, ' ') } };
  }

  private endpoints(ref: ImageReference, credentials: readonly RegistryCredentials[]): Endpoint[] {
    const configs = [...credentials, ...this.o.credentials];
    const credential = findCredential(configs, ref.registry);
    const mirrors = (this.o.mirrors[ref.registry] ?? []).map((m) => ({ registry: ref.registry, host: m, credential: findCredential(configs, m) }));
    return [...mirrors, { registry: ref.registry, host: UPSTREAM[ref.registry] ?? ref.registry, credential }];
  }

  private async lookupAt(ep: Endpoint, ref: ImageReference, deadline: Deadline): Promise<Result<ImagePlatforms>> {
    const reference = formatReference(ref);
    const own = await this.manifestAt(ep, ref.repository, ref.digest ?? (ref.tag as string), deadline);
    if (!own.ok && own.error.kind !== 'not-found') return own;
    const warnings: string[] = [];

    if (own.ok && own.value.manifest.kind === 'index') {
      const m = own.value.manifest;
      const listed: IndexEntry[] = [];
      for (const e of m.entries) {
        const first = listed.find((p) => samePlatform(p.platform, e.platform));
        if (first) {
          warnings.push(`index lists ${formatPlatform(e.platform)} more than once; kept the first (${first.digest})`);
          continue;
        }
        listed.push(e);
      }
      // Each entry's claim is checked against its config (by digest, cached), at most maxIndexChecks of them.
      const checked = listed.slice(0, this.o.maxIndexChecks);
      if (listed.length > checked.length) warnings.push(`index lists ${listed.length} platforms; the configs of the first ${checked.length} were checked, the rest taken as listed`);
      const verdicts = await mapLimit(checked, PARALLEL, (e) => this.checkEntry(ep, ref.repository, e, deadline));
      const transient = verdicts.find((v) => v.kind === 'transient');
      if (transient?.kind === 'transient') return { ok: false, error: transient.error };
      const platforms: PlatformImage[] = [];
      for (const [i, e] of listed.entries()) {
        const v = verdicts[i];
        if (v?.kind === 'rejected') {
          warnings.push(v.message);
          continue;
        }
        platforms.push({ platform: e.platform, digest: e.digest, image: `${ref.registry}/${ref.repository}@${e.digest}`, declaredVariant: e.declaredVariant });
      }
      if (platforms.length === 0) {
        const why = [...m.warnings, ...warnings];
        return { ok: false, error: { kind: 'invalid-manifest', cause: `the index at registry ${ep.host} lists no runnable platform${why.length ? ` (${why.join('; ')})` : ''}` } };
      }
      return { ok: true, value: { reference, source: 'index', platforms: sorted(platforms), warnings: [...m.warnings, ...warnings] } };
    }

    // The reference's own config and the convention search are independent: run them together.
    const searchConventions = ref.tag !== undefined && ref.digest === undefined;
    const [cfg, found] = await Promise.all([
      own.ok && own.value.manifest.kind === 'image' ? this.configPlatform(ep, ref.repository, own.value.manifest.config.digest, deadline) : undefined,
      searchConventions ? this.conventions(ep, ref, warnings, deadline) : [],
    ]);
    const platforms: PlatformImage[] = [];
    if (cfg !== undefined) {
      if (!cfg.ok) return cfg;
      if (own.ok) platforms.push({ platform: cfg.value.platform, digest: own.value.digest, image: `${ref.registry}/${ref.repository}@${own.value.digest}`, declaredVariant: cfg.value.declaredVariant });
      // A per-architecture tag referenced directly: does its config agree with its name?
      const named = namedArchitecture(ref, this.o.architectures);
      if (named) {
        const agrees = confirmCandidate(named, cfg.value);
        if (!agrees.ok) warnings.push(agrees.error.replace(/; left out$/, '; the config is what runs'));
      }
    }
    // A platform already known (the reference's own, or an earlier candidate) is not repeated.
    const byConvention: PlatformImage[] = [];
    for (const p of found) if (![...platforms, ...byConvention].some((q) => samePlatform(q.platform, p.platform))) byConvention.push(p);
    if (!own.ok && byConvention.length === 0) {
      const searched = searchConventions && this.o.conventions.length > 0;
      // Say what was found and rejected, and why, rather than that nothing was found.
      const tried = !searched ? '' : warnings.length > 0 ? `; per-architecture candidates found but rejected: ${warnings.join('; ')}` : '; no per-architecture tags or repositories by convention either';
      return { ok: false, error: { kind: 'not-found', cause: `${own.error.cause}${tried}` } };
    }
    return { ok: true, value: { reference, source: byConvention.length > 0 ? 'tag-convention' : 'manifest', platforms: sorted([...platforms, ...byConvention]), warnings } };
  }

  /** An index entry's claim against its config: kept, rejected (with the warning), or a transient failure that fails the lookup. */
  private async checkEntry(ep: Endpoint, repository: string, e: IndexEntry, deadline: Deadline): Promise<{ kind: 'kept' } | { kind: 'rejected'; message: string } | { kind: 'transient'; error: Fail }> {
    const fail = (f: Fail): { kind: 'rejected'; message: string } | { kind: 'transient'; error: Fail } =>
      TRANSIENT_FAIL.has(f.kind) ? { kind: 'transient', error: f } : { kind: 'rejected', message: `index entry ${formatPlatform(e.platform)} (${e.digest}) left out: ${f.cause}` };
    const m = await this.manifestAt(ep, repository, e.digest, deadline);
    if (!m.ok) return fail(m.error);
    if (m.value.manifest.kind !== 'image') return { kind: 'rejected', message: `index entry ${formatPlatform(e.platform)} (${e.digest}) is not an image manifest; left out` };
    const cfg = await this.configPlatform(ep, repository, m.value.manifest.config.digest, deadline);
    if (!cfg.ok) return fail(cfg.error);
    const confirmed = confirmIndexEntry(e, cfg.value);
    return confirmed.ok ? { kind: 'kept' } : { kind: 'rejected', message: confirmed.error };
  }

  /** A manifest, parsed; by-digest fetches come from the digest cache when seen before. */
  private async manifestAt(ep: Endpoint, repository: string, reference: string, deadline: Deadline): Promise<Result<{ manifest: Manifest; digest: string }>> {
    const byDigest = reference.includes(':');
    const cacheKey = (digest: string): string => `${credentialId(ep.credential)}|${digest}`;
    if (byDigest) {
      const hit = this.manifests.get(cacheKey(reference));
      if (hit) return { ok: true, value: { manifest: hit, digest: reference } };
    }
    const fetched = await this.client.manifest(ep, repository, reference, deadline);
    if (!fetched.ok) return fetched;
    const parsed = parseManifest(fetched.value.text, fetched.value.mediaType);
    if (!parsed.ok) return { ok: false, error: { kind: 'invalid-manifest', cause: `${repository}${byDigest ? '@' : ':'}${reference} from registry ${ep.host}: ${parsed.error}` } };
    this.manifests.set(cacheKey(fetched.value.digest), parsed.value, this.o.digestTtlMs);
    return { ok: true, value: { manifest: parsed.value, digest: fetched.value.digest } };
  }

  /** The platform an image config declares; configs are immutable, so cached by digest. */
  private async configPlatform(ep: Endpoint, repository: string, digest: string, deadline: Deadline): Promise<Result<ImageConfigPlatform>> {
    const key = `${credentialId(ep.credential)}|${digest}`;
    const hit = this.configs.get(key);
    if (hit) return { ok: true, value: hit };
    const blob = await this.client.blob(ep, repository, digest, deadline);
    if (!blob.ok) return blob;
    const cfg = parseImageConfig(blob.value.toString('utf8'));
    if (!cfg.ok) return { ok: false, error: { kind: 'invalid-manifest', cause: `config ${digest} of ${repository} at registry ${ep.host}: ${cfg.error}` } };
    this.configs.set(key, cfg.value, this.o.digestTtlMs);
    return cfg;
  }

  /** Per-architecture images by naming convention, each confirmed by its config, in candidate order. */
  private async conventions(ep: Endpoint, ref: ImageReference, warnings: string[], deadline: Deadline): Promise<PlatformImage[]> {
    const styles = new Set(this.o.conventions);
    if (styles.size === 0) return [];
    const spellings = new Set(this.o.repositorySuffixSpellings);
    const candidates = conventionCandidates(ref, this.o.architectures).filter(
      (c) => styles.has(c.style) && (c.style !== 'repository-suffix' || spellings.has(c.spelling)),
    );
    const tagStyle = candidates.filter((c) => c.style !== 'repository-suffix');
    const repoStyle = candidates.filter((c) => c.style === 'repository-suffix');
    // Tag-style candidates cost one tag listing; REPO-ARCH ones one probe each, started at once.
    const [tagged, byRepo] = await Promise.all([
      (async () => {
        if (tagStyle.length === 0) return [];
        const tags = await this.client.tags(ep, ref.repository, deadline);
        if (!tags.ok) {
          if (tags.error.kind !== 'not-found') warnings.push(`tags of ${ref.repository} could not be listed (${tags.error.cause}); per-architecture tags not searched`);
          return [];
        }
        const set = new Set(tags.value);
        return mapLimit(tagStyle.filter((c) => set.has(c.tag)), PARALLEL, (c) => this.candidate(ep, ref, c, deadline));
      })(),
      mapLimit(repoStyle, PARALLEL, (c) => this.candidate(ep, ref, c, deadline)),
    ]);
    const out: PlatformImage[] = [];
    for (const r of [...tagged, ...byRepo]) {
      if (r.kind === 'absent') continue;
      if (r.kind === 'warning') warnings.push(r.message);
      else out.push(r.image);
    }
    return out;
  }

  private async candidate(ep: Endpoint, ref: ImageReference, c: ConventionCandidate, deadline: Deadline): Promise<{ kind: 'absent' } | { kind: 'warning'; message: string } | { kind: 'found'; image: PlatformImage }> {
    const key = `${ep.host}/${c.repository}:${c.tag}|${credentialId(ep.credential)}`;
    if (this.absent.get(key)) return { kind: 'absent' };
    const m = await this.manifestAt(ep, c.repository, c.tag, deadline);
    if (!m.ok) {
      // A missing REPO-ARCH repository is the normal case, and registries answer 401 for repositories that do not exist.
      if (m.error.kind === 'not-found' || (c.style === 'repository-suffix' && m.error.kind === 'unauthorized')) {
        this.absent.set(key, true, this.o.absentTtlMs);
        return { kind: 'absent' };
      }
      return { kind: 'warning', message: `${candidateName(c)} left out: ${m.error.cause}` };
    }
    const image = (platform: Platform, digest: string, declaredVariant: string): PlatformImage => ({ platform, digest, image: `${ref.registry}/${c.repository}@${digest}`, declaredVariant });
    if (m.value.manifest.kind === 'index') {
      const e = m.value.manifest.entries.find((x) => x.platform.architecture === c.architecture && (!c.variant || x.platform.variant === c.variant));
      if (!e) return { kind: 'warning', message: `tag ${candidateName(c)} is named for ${c.architecture} but its index has no such platform; left out` };
      return { kind: 'found', image: image(e.platform, e.digest, e.declaredVariant) };
    }
    const cfg = await this.configPlatform(ep, c.repository, m.value.manifest.config.digest, deadline);
    if (!cfg.ok) return { kind: 'warning', message: `${candidateName(c)} left out: ${cfg.error.cause}` };
    const confirmed = confirmCandidate(c, cfg.value);
    if (!confirmed.ok) return { kind: 'warning', message: confirmed.error };
    return { kind: 'found', image: image(confirmed.value, m.value.digest, cfg.value.declaredVariant) };
  }
}

function sorted(platforms: readonly PlatformImage[]): PlatformImage[] {
  return [...platforms].sort((a, b) => comparePlatforms(a.platform, b.platform));
}

/** Who a request is made as: '' anonymous, else a short fingerprint of the credential (never the secret itself). */
function credentialId(credential: Credential | undefined): string {
  if (!credential) return '';
  return createHash('sha256').update(JSON.stringify(credential)).digest('hex').slice(0, 16);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
