/**
 * Per-architecture images published under a naming convention instead of an index
 * (step S1 of the placement method): `app:1.4-arm64`, `app:1.4-arm64v8`,
 * `app:arm64-1.4` and `app-arm64:1.4`. This module only names the candidates and
 * judges a candidate against its config; the registry adapter looks them up.
 */

import { architectureAliases, formatPlatform, makePlatform, normaliseArchitecture, type ParseResult, type Platform } from '../platform/platform.ts';
import type { ImageConfigPlatform } from './manifest.ts';
import { parseReference, type ImageReference } from './reference.ts';

export type ConventionStyle = 'tag-suffix' | 'tag-prefix' | 'repository-suffix';

export interface ConventionCandidate {
  readonly style: ConventionStyle;
  readonly repository: string;
  readonly tag: string;
  /** The architecture as spelt in the name (`aarch64`, `arm64v8`, ...). */
  readonly spelling: string;
  /** Canonical architecture and the variant the spelling implies ('' when none). */
  readonly architecture: string;
  readonly variant: string;
}

/** Architectures polyarch looks for by default (DESIGN.md). */
export const DEFAULT_ARCHITECTURES: readonly string[] = ['amd64', 'arm64', 'arm', 'loong64', 'riscv64', 'ppc64le', 's390x', 'mips64le', '386'];

/** Variant levels that appear glued to the architecture in tags (`amd64v3`, `arm64v8`, `armv6`). */
const GLUED_VARIANTS: Readonly<Record<string, readonly string[]>> = {
  amd64: ['v2', 'v3', 'v4'],
  arm64: ['v8'],
  arm: ['v5', 'v6', 'v7'],
};

/** Every spelling of an architecture in names, with the variant each implies. */
export function architectureSpellings(architecture: string): { spelling: string; variant: string }[] {
  const out = new Map<string, string>();
  for (const alias of architectureAliases(architecture)) out.set(alias, normaliseArchitecture(alias)?.variant ?? '');
  for (const v of GLUED_VARIANTS[architecture] ?? []) {
    const glued = `${architecture}${v}`;
    if (!out.has(glued)) out.set(glued, v);
  }
  return [...out].map(([spelling, variant]) => ({ spelling, variant }));
}

/**
 * The candidate names for `ref` under each convention, for each architecture in
 * `architectures` (canonical names). A digest-only reference has no candidates.
 * Candidates whose name would be invalid (too long, bad characters) are left out.
 */
export function conventionCandidates(ref: ImageReference, architectures: readonly string[] = DEFAULT_ARCHITECTURES): ConventionCandidate[] {
  const tag = ref.tag;
  if (tag === undefined) return [];
  const out: ConventionCandidate[] = [];
  const seen = new Set<string>();
  const add = (style: ConventionStyle, repository: string, t: string, spelling: string, architecture: string, variant: string): void => {
    const key = `${repository}:${t}`;
    if (seen.has(key)) return;
    const parsed = parseReference(`${ref.registry}/${repository}:${t}`);
    if (!parsed.ok || parsed.value.repository !== repository) return;
    seen.add(key);
    out.push({ style, repository, tag: t, spelling, architecture, variant });
  };
  for (const style of ['tag-suffix', 'tag-prefix', 'repository-suffix'] as const) {
    for (const arch of architectures) {
      for (const { spelling, variant } of architectureSpellings(arch)) {
        if (style === 'tag-suffix') add(style, ref.repository, `${tag}-${spelling}`, spelling, arch, variant);
        else if (style === 'tag-prefix') add(style, ref.repository, `${spelling}-${tag}`, spelling, arch, variant);
        else add(style, `${ref.repository}-${spelling}`, tag, spelling, arch, variant);
      }
    }
  }
  return out;
}

/**
 * The architecture an image's own name claims under the conventions (`app:1.4-arm64`,
 * `app:arm64-1.4`, `app-arm64:1.4`), or undefined when the name claims none: so that a
 * per-architecture tag referenced directly can still be checked against its config.
 */
export function namedArchitecture(ref: ImageReference, architectures: readonly string[] = DEFAULT_ARCHITECTURES): ConventionCandidate | undefined {
  const tag = ref.tag;
  if (tag === undefined) return undefined;
  let best: ConventionCandidate | undefined;
  for (const arch of architectures) {
    for (const { spelling, variant } of architectureSpellings(arch)) {
      const named: ConventionCandidate | undefined =
        tag.endsWith(`-${spelling}`) && tag.length > spelling.length + 1 ? { style: 'tag-suffix', repository: ref.repository, tag, spelling, architecture: arch, variant }
        : tag.startsWith(`${spelling}-`) && tag.length > spelling.length + 1 ? { style: 'tag-prefix', repository: ref.repository, tag, spelling, architecture: arch, variant }
        : ref.repository.endsWith(`-${spelling}`) ? { style: 'repository-suffix', repository: ref.repository, tag, spelling, architecture: arch, variant }
        : undefined;
      // The longest spelling wins (`arm64v8` over `arm64`... and `arm` never inside `arm64`).
      if (named && (!best || named.spelling.length > best.spelling.length)) best = named;
    }
  }
  return best;
}

/**
 * An index entry checked against its image config: the config must declare the
 * entry's os and architecture, and a variant written in both must agree. The error
 * says what the config declared, for the warning that leaves the entry out.
 */
export function confirmIndexEntry(entry: { readonly platform: Platform; readonly digest: string; readonly declaredVariant: string }, config: ImageConfigPlatform): ParseResult<Platform> {
  const declared = config.platform;
  const claimed = entry.platform;
  const variantsDisagree = entry.declaredVariant !== '' && config.declaredVariant !== '' && declared.variant !== claimed.variant;
  if (declared.os !== claimed.os || declared.architecture !== claimed.architecture || variantsDisagree) {
    return { ok: false, error: `index entry ${entry.digest} is listed as ${formatPlatform(claimed)} but its config says ${formatPlatform(declared)}; left out` };
  }
  return { ok: true, value: claimed };
}

/** `repository:tag` of a candidate, for messages. */
export function candidateName(c: ConventionCandidate): string {
  return `${c.repository}:${c.tag}`;
}

/**
 * The platform of a candidate, confirmed by its image config: the architecture must
 * be the one its name says, and a variant written in both must agree. The error says
 * what the config declared, for the warning that leaves the candidate out.
 */
export function confirmCandidate(c: ConventionCandidate, config: ImageConfigPlatform): ParseResult<Platform> {
  const declared = config.platform;
  const disagree = (): ParseResult<Platform> => ({
    ok: false,
    error: `tag ${candidateName(c)} is named for ${c.architecture}${c.variant ? `/${c.variant}` : ''} but its config says ${formatPlatform(declared)}; left out`,
  });
  if (declared.architecture !== c.architecture) return disagree();
  if (c.variant && config.declaredVariant && config.declaredVariant.toLowerCase() !== c.variant) return disagree();
  if (!c.variant) return { ok: true, value: declared };
  const p = makePlatform(declared.os, declared.architecture, c.variant);
  return p.ok ? p : disagree();
}
