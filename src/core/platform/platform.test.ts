import { describe, expect, it } from 'vitest';
import { canRun, formatPlatform, nodePlatform, parsePlatform, variantFit, type Platform } from './platform.ts';

const p = (s: string): Platform => {
  const r = parsePlatform(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('parsePlatform', () => {
  it.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['linux/armv7l', 'linux/arm/v7'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/loongarch64', 'linux/loong64'],
    ['linux/mips64el', 'linux/mips64le'],
    ['linux/ppc64el', 'linux/ppc64le'],
    ['linux/i386', 'linux/386'],
    ['linux/i686', 'linux/386'],
    ['linux/riscv64', 'linux/riscv64'],
    ['linux/s390x', 'linux/s390x'],
    ['LINUX/AMD64/V3', 'linux/amd64/v3'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['aarch64', 'linux/arm64/v8'],
    ['windows/amd64', 'windows/amd64'],
  ])('%s -> %s', (input, want) => {
    expect(formatPlatform(p(input))).toBe(want);
  });

  it.each([
    ['', 'malformed'],
    ['linux/', 'malformed'],
    ['linux/sparc', 'unknown architecture "sparc"'],
    ['beos/amd64', 'unknown os "beos"'],
    ['linux/amd64/x3', 'malformed variant'],
    ['linux/armhf/v6', 'implies variant v7'],
    ['a/b/c/d', 'malformed'],
  ])('refuses %j naming the problem', (input, why) => {
    const r = parsePlatform(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(why);
  });
});

describe('canRun(image, node)', () => {
  it.each([
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/arm64', 'windows/arm64', false],
    ['linux/arm/v6', 'linux/arm/v7', true], // older ISA on newer CPU
    ['linux/arm/v7', 'linux/arm/v6', false],
    ['linux/amd64', 'linux/amd64/v3', true], // baseline x86-64 runs everywhere
    ['linux/amd64/v3', 'linux/amd64/v2', false], // needs AVX2
    ['linux/amd64/v3', 'linux/amd64/v4', true],
    ['linux/amd64/v2', 'linux/amd64', false], // node of unknown level = v1
    ['linux/arm64/v8', 'linux/arm64/v8.2', true],
    ['linux/arm64/v8.2', 'linux/arm64/v8', false],
    ['linux/riscv64', 'linux/riscv64', true],
    ['linux/loong64', 'linux/riscv64', false],
  ])('%s on %s -> %s', (image, node, want) => {
    expect(canRun(p(image), p(node))).toBe(want);
  });

  it('prefers the exact variant over a compatible lower one', () => {
    const node = p('linux/amd64/v3');
    const exact = variantFit(p('linux/amd64/v3'), node) ?? -1;
    const lower = variantFit(p('linux/amd64/v2'), node) ?? -1;
    const base = variantFit(p('linux/amd64'), node) ?? -1;
    expect(exact).toBeGreaterThan(lower);
    expect(lower).toBeGreaterThan(base);
    expect(variantFit(p('linux/amd64/v4'), node)).toBeUndefined();
  });
});

describe('nodePlatform', () => {
  it('reads the well-known labels and the variant label', () => {
    const r = nodePlatform({ metadata: { name: 'n1', labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux', 'polyarch.io/arch-variant': 'v3' } } });
    expect(r.ok && formatPlatform(r.value)).toBe('linux/amd64/v3');
  });
  it('falls back to status.nodeInfo.architecture', () => {
    const r = nodePlatform({ metadata: { name: 'n2', labels: {} }, status: { nodeInfo: { architecture: 'loongarch64', operatingSystem: 'linux' } } });
    expect(r.ok && formatPlatform(r.value)).toBe('linux/loong64');
  });
  it('names the node when it has no architecture', () => {
    const r = nodePlatform({ metadata: { name: 'n3' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^node n3: no kubernetes.io\/arch label/);
  });
});
