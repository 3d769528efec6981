import { describe, expect, it } from 'vitest';
import { architectureAliases, canRun, comparePlatforms, formatPlatform, makePlatform, nodePlatform, parsePlatform, samePlatform, variantFit, type Platform } from './platform.ts';

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

// Cases mutation testing found untested (docs/testing.md).
describe('platform edges', () => {
  it('trims and lower-cases what it is given', () => {
    expect(formatPlatform(p('  linux/amd64  '))).toBe('linux/amd64');
    const r = makePlatform(' Linux ', ' AArch64 ', ' V8 ');
    expect(r.ok && formatPlatform(r.value)).toBe('linux/arm64/v8');
  });

  it('an empty os is named as such', () => {
    expect(makePlatform('  ', 'amd64')).toEqual({ ok: false, error: 'platform: os is empty' });
  });

  it('a variant the alias implies may be written again', () => {
    expect(formatPlatform(p('linux/armhf/v7'))).toBe('linux/arm/v7');
    expect(formatPlatform(p('linux/arm64v8/v8'))).toBe('linux/arm64/v8');
  });

  it('samePlatform compares all three fields', () => {
    expect(samePlatform(p('linux/arm/v7'), p('linux/armhf'))).toBe(true);
    expect(samePlatform(p('linux/arm/v7'), p('linux/arm/v6'))).toBe(false);
    expect(samePlatform(p('linux/riscv64'), p('linux/loong64'))).toBe(false);
    expect(samePlatform(p('linux/amd64'), p('windows/amd64'))).toBe(false);
  });

  it('comparePlatforms orders by os, then architecture, then variant', () => {
    const sorted = ['windows/amd64', 'linux/arm/v7', 'linux/amd64/v3', 'linux/arm/v6', 'linux/amd64'].map(p).sort(comparePlatforms).map(formatPlatform);
    expect(sorted).toEqual(['linux/amd64', 'linux/amd64/v3', 'linux/arm/v6', 'linux/arm/v7', 'windows/amd64']);
    expect(comparePlatforms(p('linux/arm/v6'), p('linux/arm/v7'))).toBe(-1);
    expect(comparePlatforms(p('linux/arm/v7'), p('linux/arm/v6'))).toBe(1);
    expect(comparePlatforms(p('linux/arm/v7'), p('linux/armhf'))).toBe(0);
  });

  it('architectureAliases lists every spelling of one architecture', () => {
    expect(architectureAliases('arm64')).toEqual(['arm64', 'aarch64', 'arm64v8', 'armv8']);
    expect(architectureAliases('nonesuch')).toEqual([]);
  });

  it('an image with a variant does not run on a node of an unordered architecture without it', () => {
    expect(canRun(p('linux/riscv64/v2'), p('linux/riscv64'))).toBe(false);
    expect(canRun(p('linux/riscv64'), p('linux/riscv64/v2'))).toBe(true);
    expect(variantFit(p('linux/riscv64/v1'), p('linux/riscv64/v1'))).toBeGreaterThan(variantFit(p('linux/riscv64'), p('linux/riscv64/v1')) ?? Infinity);
  });
});

describe('nodePlatform sources', () => {
  it('os from status.nodeInfo when there is no os label, linux when neither says', () => {
    const win = nodePlatform({ metadata: { name: 'w', labels: { 'kubernetes.io/arch': 'amd64' } }, status: { nodeInfo: { operatingSystem: 'windows' } } });
    expect(win.ok && formatPlatform(win.value)).toBe('windows/amd64');
    const bare = nodePlatform({ metadata: { name: 'b', labels: { 'kubernetes.io/arch': 'amd64' } } });
    expect(bare.ok && formatPlatform(bare.value)).toBe('linux/amd64');
    const labelled = nodePlatform({ metadata: { name: 'l', labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux' } }, status: { nodeInfo: { operatingSystem: 'windows' } } });
    expect(labelled.ok && formatPlatform(labelled.value)).toBe('linux/amd64');
  });

  it('a node without metadata, or with a bad label, is named in the error', () => {
    expect(nodePlatform({ status: { nodeInfo: { architecture: 'amd64' } } })).toMatchObject({ ok: true });
    expect(nodePlatform({ metadata: null })).toEqual({ ok: false, error: 'node <unnamed>: no kubernetes.io/arch label and no status.nodeInfo.architecture' });
    expect(nodePlatform({ metadata: { name: 'odd', labels: { 'kubernetes.io/arch': 'sparc' } } })).toEqual({ ok: false, error: 'node odd: platform: unknown architecture "sparc"' });
  });
});
