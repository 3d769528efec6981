/**
 * An independent statement of which image platforms a node runs, for tests to check
 * src/core/platform against. Written from the rules, not from the implementation (it
 * imports nothing from src/):
 *
 * - OCI image index spec, `platform`: os, architecture and variant as GOOS/GOARCH write
 *   them; the variant names a CPU level (arm v5..v8, arm64 v8.x/v9.x, amd64 v1..v4).
 * - containerd's matcher (github.com/containerd/platforms, compare.go `platformVector`
 *   and database.go `normalizeArch`, read at commit 09756f5): a node of a platform runs
 *   the images of its own platform and of every platform in its vector:
 *   - amd64/vN: amd64/v(N-1) ... amd64/v1 (v1 is written as no variant);
 *   - arm/vN (N > 5): arm/v(N-1) ... arm/v5; no variant means v7;
 *   - arm64/v8.x: arm64/v8.(x-1) ... arm64/v8 (no variant means v8);
 *   - arm64/v9.x: arm64/v9.(x-1) ... arm64/v9, then arm64/v8.(x+5) ... arm64/v8
 *     (v9.0 is the level of v8.5);
 *   - other architectures: their own platform only.
 *
 * containerd only ever sees variants for amd64, arm and arm64. For the other architectures
 * (a node labelled riscv64/v2, say) this oracle adds what the OCI spec implies: an image
 * without a variant is the architecture's baseline build and runs on every variant.
 *
 * One deliberate difference: containerd also lets an amd64 node run 386 images and an
 * arm64 node run arm (32-bit) images. polyarch matches an image's architecture with the
 * node's `kubernetes.io/arch` and does not: whether a 64-bit node runs 32-bit code depends
 * on the kernel (IA32 emulation, CONFIG_COMPAT) and on the CPU (Graviton 2 and later and
 * Ampere Altra have no AArch32), which no node label states. So the cross-architecture
 * entries of containerd's vector are left out here.
 */

export interface OraclePlatform {
  readonly os: string;
  readonly architecture: string;
  /** '' when the platform has none after normalisation. */
  readonly variant: string;
}

/** containerd's normalizeArch for the spellings tests use, with its defaults written out. */
export function normalise(text: string): OraclePlatform {
  const [os = '', archIn = '', variantIn = ''] = text.toLowerCase().split('/');
  let architecture = archIn;
  let variant = variantIn;
  switch (archIn) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '' || variant === '8' || variant === 'v8.0') variant = 'v8';
      if (variant === '9' || variant === 'v9.0') variant = 'v9';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
    case 'i386':
      architecture = '386';
      variant = '';
      break;
  }
  return { os, architecture, variant };
}

/** arm64 variant -> [major, minor] pairs a node of that variant runs, newest first (containerd arm64variantToVersion). */
const ARM64_LEVELS: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>> = {
  ...Object.fromEntries(Array.from({ length: 10 }, (_, x) => [x === 0 ? 'v8' : `v8.${x}`, [[8, x]] as const])),
  ...Object.fromEntries(Array.from({ length: 8 }, (_, x) => [x === 0 ? 'v9' : `v9.${x}`, [[9, x], [8, Math.min(9, x + 5)]] as const])),
};

/** The platforms a node runs, best first (containerd's `platformVector`, same architecture only). */
export function runnableOn(nodeText: string): OraclePlatform[] {
  const node = normalise(nodeText);
  const { os, architecture } = node;
  const at = (variant: string): OraclePlatform => ({ os, architecture, variant });
  const level = (v: string): number => Number.parseInt(v.slice(1), 10);
  switch (architecture) {
    case 'amd64': {
      const out = [node];
      for (let n = node.variant === '' ? 1 : level(node.variant) - 1; n >= 1; n--) out.push(at(n === 1 ? '' : `v${n}`));
      return out;
    }
    case 'arm': {
      const out = [node];
      for (let n = level(node.variant) - 1; n >= 5; n--) out.push(at(`v${n}`));
      return out;
    }
    case 'arm64': {
      const out: OraclePlatform[] = [];
      for (const [major, top] of ARM64_LEVELS[node.variant] ?? []) {
        for (let minor = top; minor >= 0; minor--) out.push(at(minor === 0 ? `v${major}` : `v${major}.${minor}`));
      }
      return out;
    }
    default:
      return node.variant === '' ? [node] : [node, at('')];
  }
}

const same = (a: OraclePlatform, b: OraclePlatform): boolean => a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;

/** Does an image built for `imageText` (os/arch[/variant]) run on a node of `nodeText`? */
export function oracleCanRun(imageText: string, nodeText: string): boolean {
  const image = normalise(imageText);
  return runnableOn(nodeText).some((p) => same(p, image));
}

/** Of the image platforms offered, the one containerd would pull for this node (undefined: none runs). */
export function oracleBest(offered: readonly string[], nodeText: string): string | undefined {
  for (const p of runnableOn(nodeText)) {
    const hit = offered.find((o) => same(normalise(o), p));
    if (hit !== undefined) return hit;
  }
  return undefined;
}
