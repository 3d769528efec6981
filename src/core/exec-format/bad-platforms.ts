/**
 * The negative record of S1: image digests that were seen not to run on a platform
 * (an exec format error on a node of that platform), whatever the registry says. The
 * one image lookup service removes them from every answer it gives, so the scheduler,
 * the extender and the webhook never offer that digest for that platform again.
 *
 * On a cluster the entries live in the ConfigMap `polyarch-exec-format` of polyarch's
 * namespace (one data key per entry, so two writers add entries without a conflict);
 * on the simulator in memory. Both go through the BadPlatformStore port.
 *
 * Pure: parsing, the data key, and the filter of an answer.
 */
import { z } from 'zod';
import { parseReference } from '../image/reference.ts';
import type { ImagePlatforms, PlatformImage } from '../image/types.ts';
import { formatPlatform, parsePlatform, type Platform } from '../platform/platform.ts';
import { bestVariant } from '../placement/pod-info.ts';
import type { ExecFormatFinding } from './detect.ts';

/** The ConfigMap of a cluster's entries. */
export const BAD_PLATFORMS_CONFIGMAP = 'polyarch-exec-format';

export interface BadPlatform {
  /** Digest of the manifest that was pulled (`sha256:...`). */
  readonly digest: string;
  /** The platform of the node it failed on (`linux/arm64/v8`); its os and architecture are what count. */
  readonly platform: string;
  /** The architecture-neutral image it came from (for people and the metric's label). */
  readonly image: string;
  /** Where it was seen: `namespace/name` of the pod, its node, and the runtime's message. */
  readonly pod: string;
  readonly node: string;
  readonly message: string;
  /** When it was recorded (RFC 3339). */
  readonly at: string;
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,128}$/;

const entrySchema = z.object({
  digest: z.string().regex(DIGEST, 'expected algorithm:hex'),
  platform: z.string().min(1),
  image: z.string(),
  pod: z.string(),
  node: z.string(),
  message: z.string().max(4096),
  at: z.string(),
});

/** The ConfigMap data key of an entry: `sha256-<hex>.linux-arm64` (keys allow [-._a-zA-Z0-9]). */
export function badPlatformKey(digest: string, platform: Platform): string {
  return `${digest.replace(':', '-')}.${platform.os}-${platform.architecture}`;
}

/** One entry read back (anyone may edit the ConfigMap): checked field by field; the error names the key and field. */
export function parseBadPlatform(key: string, value: string): { ok: true; value: BadPlatform } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return { ok: false, error: `data.${key}: not JSON` };
  }
  const r = entrySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, error: `data.${key}.${(i?.path ?? []).map(String).join('.') || 'value'}: ${i?.message ?? 'invalid'}` };
  }
  const p = parsePlatform(r.data.platform);
  if (!p.ok) return { ok: false, error: `data.${key}.platform: ${p.error}` };
  return { ok: true, value: r.data };
}

/** Every entry of a ConfigMap's data; the invalid ones are left out and named. */
export function parseBadPlatforms(data: Readonly<Record<string, string>> | null | undefined): { entries: BadPlatform[]; errors: string[] } {
  const entries: BadPlatform[] = [];
  const errors: string[] = [];
  for (const [k, v] of Object.entries(data ?? {})) {
    const r = parseBadPlatform(k, v);
    if (r.ok) entries.push(r.value);
    else errors.push(r.error);
  }
  return { entries, errors };
}

/** The data key and value of an entry. */
export function badPlatformData(entry: BadPlatform): [string, string] {
  const p = parsePlatform(entry.platform);
  const key = p.ok ? badPlatformKey(entry.digest, p.value) : entry.digest.replace(':', '-');
  return [key, JSON.stringify(entry)];
}

const pairOf = (e: BadPlatform): string => {
  const p = parsePlatform(e.platform);
  return p.ok ? `${e.digest}|${p.value.os}/${p.value.architecture}` : e.digest;
};

/** Entries indexed for the filter: digest -> the os/architecture pairs it does not run on. */
export class BadPlatformIndex {
  private readonly byDigest = new Map<string, Map<string, BadPlatform>>();

  constructor(entries: readonly BadPlatform[] = []) {
    for (const e of entries) this.add(e);
  }

  get size(): number {
    let n = 0;
    for (const m of this.byDigest.values()) n += m.size;
    return n;
  }

  /** Adds an entry; false when that (digest, os/architecture) was known already. */
  add(entry: BadPlatform): boolean {
    const p = parsePlatform(entry.platform);
    if (!p.ok) return false;
    const k = `${p.value.os}/${p.value.architecture}`;
    let m = this.byDigest.get(entry.digest);
    if (!m) this.byDigest.set(entry.digest, (m = new Map()));
    if (m.has(k)) return false;
    m.set(k, entry);
    return true;
  }

  /** The entry saying `digest` does not run on `platform` (os and architecture), if any. */
  find(digest: string, platform: Platform): BadPlatform | undefined {
    return this.byDigest.get(digest)?.get(`${platform.os}/${platform.architecture}`);
  }

  entries(): BadPlatform[] {
    return [...this.byDigest.values()].flatMap((m) => [...m.values()]);
  }

  /** Keeps only the (digest, os/architecture) pairs of `entries`; how many were added and removed. */
  replace(entries: readonly BadPlatform[]): { added: number; removed: number } {
    const next = new BadPlatformIndex(entries);
    const had = new Set(this.entries().map(pairOf));
    const has = new Set(next.entries().map(pairOf));
    this.byDigest.clear();
    for (const e of next.entries()) this.add(e);
    return { added: [...has].filter((k) => !had.has(k)).length, removed: [...had].filter((k) => !has.has(k)).length };
  }
}

/**
 * The answer without the platforms whose digest was seen not to run there: each one
 * removed is named in the warnings. The same object when nothing is removed.
 */
export function withoutBadPlatforms(answer: ImagePlatforms, bad: BadPlatformIndex): ImagePlatforms {
  if (bad.size === 0) return answer;
  const removed: string[] = [];
  const withheld: PlatformImage[] = [...(answer.withheld ?? [])];
  const platforms = answer.platforms.filter((p) => {
    const hit = bad.find(p.digest, p.platform);
    if (hit) {
      removed.push(`${formatPlatform(p.platform)} (${p.digest.slice(0, 19)}) removed: exec format error on node ${hit.node} at ${hit.at}`);
      withheld.push(p);
    }
    return !hit;
  });
  if (removed.length === 0) return answer;
  return { ...answer, platforms, warnings: [...answer.warnings, ...removed], withheld };
}

/**
 * The (digest, platform) a finding condemns, on its node's platform: the digest the
 * container runs. That is its image as written when polyarch pinned it to a platform's
 * manifest; for an image written by tag (or by index digest), the manifest a runtime on
 * that platform pulls from the image's platforms (`platforms`, S1's answer), as
 * containerd's platform matcher picks it; else the runtime's imageID.
 */
export function badPlatformOf(
  finding: ExecFormatFinding,
  where: { readonly pod: string; readonly node: string; readonly platform: Platform; readonly image: string; readonly at: string; readonly platforms?: readonly PlatformImage[] },
): { ok: true; value: BadPlatform } | { ok: false; error: string } {
  const fromSpec = parseReference(finding.image);
  const specDigest = fromSpec.ok ? fromSpec.value.digest : undefined;
  const idDigest = /(sha256:[a-f0-9]{64})$/.exec(finding.imageID)?.[1];
  const children = where.platforms ?? [];
  const pinned = specDigest !== undefined && children.some((c) => c.digest === specDigest);
  const pulled = pinned ? undefined : bestVariant(children, where.platform)?.digest;
  const digest = pulled ?? specDigest ?? idDigest;
  if (!digest) return { ok: false, error: `container ${finding.container}: no digest to record (image ${finding.image} is not pinned and status.imageID "${finding.imageID}" names none)` };
  return {
    ok: true,
    value: { digest, platform: formatPlatform(where.platform), image: where.image, pod: where.pod, node: where.node, message: finding.message.slice(0, 4096), at: where.at },
  };
}
