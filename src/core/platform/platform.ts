/**
 * Platform names as OCI image indexes and Kubernetes nodes write them, normalised so
 * that the aliases met in the field (uname -m, Debian arch names, GOARCH) compare equal.
 */

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  /** Empty string when the architecture has no variant. */
  readonly variant: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** arch alias -> [canonical arch, implied variant] */
const ARCH_ALIASES: Readonly<Record<string, readonly [string, string]>> = {
  amd64: ['amd64', ''],
  x86_64: ['amd64', ''],
  'x86-64': ['amd64', ''],
  x64: ['amd64', ''],
  arm64: ['arm64', ''],
  aarch64: ['arm64', ''],
  arm64v8: ['arm64', 'v8'],
  armv8: ['arm64', 'v8'],
  arm: ['arm', ''],
  armhf: ['arm', 'v7'],
  armv7: ['arm', 'v7'],
  armv7l: ['arm', 'v7'],
  armv7hl: ['arm', 'v7'],
  arm32v7: ['arm', 'v7'],
  armel: ['arm', 'v6'],
  armv6: ['arm', 'v6'],
  armv6l: ['arm', 'v6'],
  arm32v6: ['arm', 'v6'],
  armv5: ['arm', 'v5'],
  armv5l: ['arm', 'v5'],
  arm32v5: ['arm', 'v5'],
  loong64: ['loong64', ''],
  loongarch64: ['loong64', ''],
  la64: ['loong64', ''],
  riscv64: ['riscv64', ''],
  mips64le: ['mips64le', ''],
  mips64el: ['mips64le', ''],
  mips64: ['mips64', ''],
  mipsle: ['mipsle', ''],
  mipsel: ['mipsle', ''],
  mips: ['mips', ''],
  ppc64le: ['ppc64le', ''],
  ppc64el: ['ppc64le', ''],
  ppc64: ['ppc64', ''],
  s390x: ['s390x', ''],
  '386': ['386', ''],
  i386: ['386', ''],
  i686: ['386', ''],
  x86: ['386', ''],
  wasm: ['wasm', ''],
};

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'plan9', 'wasip1', 'js']);

/** Variant an architecture has when none is written (OCI image-index spec, platform.variant). */
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm64: 'v8', arm: 'v7' };

const VARIANT_RE = /^v[1-9][0-9]?(\.[0-9]+)?$/;

/** The canonical architecture for an alias, or undefined when unknown. */
export function normaliseArchitecture(arch: string): { architecture: string; variant: string } | undefined {
  const hit = ARCH_ALIASES[arch.trim().toLowerCase()];
  return hit ? { architecture: hit[0], variant: hit[1] } : undefined;
}

/** Every alias spelling of a canonical architecture (for tag conventions such as `1.4-aarch64`). */
export function architectureAliases(architecture: string): string[] {
  return Object.entries(ARCH_ALIASES)
    .filter(([, [canon]]) => canon === architecture)
    .map(([alias]) => alias);
}

export function defaultVariant(architecture: string): string {
  return DEFAULT_VARIANT[architecture] ?? '';
}

/**
 * Builds a normalised platform: canonical architecture, lower-case os and the default
 * variant filled in (arm64 -> v8, arm -> v7). amd64 without a level stays '' (= v1).
 */
export function makePlatform(os: string, architecture: string, variant = ''): ParseResult<Platform> {
  const o = os.trim().toLowerCase();
  if (!o) return { ok: false, error: 'platform: os is empty' };
  if (!KNOWN_OS.has(o)) return { ok: false, error: `platform: unknown os "${os}"` };
  const arch = normaliseArchitecture(architecture);
  if (!arch) return { ok: false, error: `platform: unknown architecture "${architecture}"` };
  let v = variant.trim().toLowerCase();
  if (v && !VARIANT_RE.test(v)) return { ok: false, error: `platform: malformed variant "${variant}"` };
  if (arch.variant && v && arch.variant !== v) {
    return { ok: false, error: `platform: architecture "${architecture}" implies variant ${arch.variant}, not ${v}` };
  }
  v = v || arch.variant || defaultVariant(arch.architecture);
  if (arch.architecture === 'amd64' && v === 'v1') v = '';
  return { ok: true, value: { os: o, architecture: arch.architecture, variant: v } };
}

/** Parses `os/arch[/variant]`, or a bare `arch` (os defaults to linux). */
export function parsePlatform(text: string): ParseResult<Platform> {
  const parts = text.trim().split('/');
  if (parts.some((p) => p === '')) return { ok: false, error: `platform: malformed "${text}" (want os/arch[/variant])` };
  if (parts.length === 1) return makePlatform('linux', parts[0] ?? '');
  if (parts.length === 2) return makePlatform(parts[0] ?? '', parts[1] ?? '');
  if (parts.length === 3) return makePlatform(parts[0] ?? '', parts[1] ?? '', parts[2] ?? '');
  return { ok: false, error: `platform: malformed "${text}" (want os/arch[/variant])` };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

export function comparePlatforms(a: Platform, b: Platform): number {
  return cmp(a.os, b.os) || cmp(a.architecture, b.architecture) || cmp(a.variant, b.variant);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Level of a variant as major x 100 + minor (v7 -> 700, v8.2 -> 802). No variant is the
 * baseline, level 1: amd64 without a level is v1; arm and arm64 always carry one after
 * makePlatform.
 */
function variantLevel(variant: string): number {
  if (!variant) return 100;
  const [major = '', minor = '0'] = variant.slice(1).split('.');
  return Number.parseInt(major, 10) * 100 + Number.parseInt(minor, 10);
}

/**
 * Can an image built for `image` run on a node of platform `node`? Same os and
 * architecture (no 386 on amd64 nor 32-bit arm on arm64: whether a node runs those
 * depends on its kernel and CPU, which its labels do not say); for arm and amd64 the
 * node's level must be at least the image's (an arm/v6 image runs on a v7 node, an
 * amd64/v3 image needs an x86-64-v3 CPU). For arm64, v8.x images run on v8.y nodes with
 * y >= x, and on v9.y nodes up to v8.(y+5): Armv9.y is the level of Armv8.(y+5)
 * (containerd's platform matcher says the same).
 */
export function canRun(image: Platform, node: Platform): boolean {
  if (image.os !== node.os || image.architecture !== node.architecture) return false;
  if (image.variant === node.variant) return true;
  const arch = image.architecture;
  if (arch === 'arm' || arch === 'amd64') return variantLevel(node.variant) >= variantLevel(image.variant);
  if (arch === 'arm64') {
    const i = variantLevel(image.variant);
    const n = variantLevel(node.variant);
    const v9AsV8 = n >= 900 && i < 900 ? Math.min(809, n - 900 + 805) : n;
    return v9AsV8 >= i;
  }
  // Architectures without a level order: an image without a variant is the baseline build
  // and runs on any node of the architecture; one with a variant needs that same variant.
  return image.variant === '';
}

/**
 * How well an image variant fits a node: higher is better; undefined when it cannot
 * run. Exact match first, then the highest compatible level below the node's.
 */
export function variantFit(image: Platform, node: Platform): number | undefined {
  if (!canRun(image, node)) return undefined;
  // The exact variant has the highest level of those that run, but may tie with the
  // baseline (a riscv64/v1 node: '' and v1 are both level 1).
  if (image.variant === node.variant) return 10_000;
  return variantLevel(image.variant);
}

export const ARCH_LABEL = 'kubernetes.io/arch';
export const OS_LABEL = 'kubernetes.io/os';
export const VARIANT_LABEL = 'polyarch.io/arch-variant';

/** The subset of a Kubernetes Node this module reads. */
export interface NodePlatformSource {
  metadata?: { name?: string; labels?: Record<string, string> | null } | null;
  status?: { nodeInfo?: { architecture?: string; operatingSystem?: string } | null } | null;
}

/**
 * A node's platform: labels first (what kube-scheduler matches on), then
 * status.nodeInfo (what the kubelet reported), plus the optional variant label.
 */
export function nodePlatform(node: NodePlatformSource): ParseResult<Platform> {
  const labels = node.metadata?.labels ?? {};
  const name = node.metadata?.name ?? '<unnamed>';
  const arch = labels[ARCH_LABEL] ?? node.status?.nodeInfo?.architecture;
  const os = labels[OS_LABEL] ?? node.status?.nodeInfo?.operatingSystem ?? 'linux';
  if (!arch) return { ok: false, error: `node ${name}: no ${ARCH_LABEL} label and no status.nodeInfo.architecture` };
  const r = makePlatform(os, arch, labels[VARIANT_LABEL] ?? '');
  return r.ok ? r : { ok: false, error: `node ${name}: ${r.error}` };
}
