import { describe, expect, it } from 'vitest';
import { formatPlatform, parsePlatform } from '../platform/platform.ts';
import { architectureSpellings, candidateName, confirmCandidate, confirmIndexEntry, conventionCandidates, namedArchitecture, type ConventionCandidate } from './convention.ts';
import { parseImageConfig } from './manifest.ts';
import { parseReference, type ImageReference } from './reference.ts';

const ref = (s: string): ImageReference => {
  const r = parseReference(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('conventionCandidates', () => {
  const all = conventionCandidates(ref('127.0.0.1:5000/team/app:1.4'), ['arm64', 'amd64']);
  const names = all.map((c) => `${c.style} ${candidateName(c)} ${c.architecture}/${c.variant}`);

  it.each([
    'tag-suffix team/app:1.4-arm64 arm64/',
    'tag-suffix team/app:1.4-aarch64 arm64/',
    'tag-suffix team/app:1.4-arm64v8 arm64/v8',
    'tag-suffix team/app:1.4-amd64 amd64/',
    'tag-suffix team/app:1.4-x86_64 amd64/',
    'tag-suffix team/app:1.4-amd64v3 amd64/v3',
    'tag-prefix team/app:arm64-1.4 arm64/',
    'tag-prefix team/app:arm64v8-1.4 arm64/v8',
    'tag-prefix team/app:amd64-1.4 amd64/',
    'repository-suffix team/app-arm64:1.4 arm64/',
    'repository-suffix team/app-aarch64:1.4 arm64/',
    'repository-suffix team/app-amd64:1.4 amd64/',
    'repository-suffix team/app-x86_64:1.4 amd64/',
  ])('includes %s', (want) => {
    expect(names).toContain(want);
  });

  it('leaves out names that would be invalid and other architectures', () => {
    // `x86-64` as a tag prefix is fine; as a repository suffix `app-x86-64` is fine too.
    expect(names.some((n) => n.includes('riscv64'))).toBe(false);
    expect(new Set(names).size).toBe(names.length);
    const long = conventionCandidates(ref(`r.io/app:${'t'.repeat(125)}`), ['arm64']);
    expect(long.filter((c) => c.style !== 'repository-suffix')).toEqual([]);
  });

  it('has none for a digest-only reference', () => {
    expect(conventionCandidates(ref(`app@sha256:${'a'.repeat(64)}`))).toEqual([]);
  });

  it('spells arm with its glued variants', () => {
    const spellings = architectureSpellings('arm').map((s) => `${s.spelling}:${s.variant}`);
    expect(spellings).toEqual(expect.arrayContaining(['arm:', 'armhf:v7', 'armv6:v6', 'arm32v7:v7', 'armv5:v5']));
  });
});

describe('confirmCandidate', () => {
  const cand = (architecture: string, variant: string): ConventionCandidate => ({ style: 'tag-suffix', repository: 'app', tag: `1.4-${architecture}${variant}`, spelling: architecture + variant, architecture, variant });
  const cfg = (o: object) => {
    const r = parseImageConfig(JSON.stringify(o));
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };

  it.each([
    [cand('arm64', ''), { os: 'linux', architecture: 'arm64' }, 'linux/arm64/v8'],
    [cand('arm64', 'v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64/v8'],
    [cand('arm', 'v6'), { os: 'linux', architecture: 'arm' }, 'linux/arm/v6'],
    [cand('amd64', 'v3'), { os: 'linux', architecture: 'amd64' }, 'linux/amd64/v3'],
    [cand('amd64', ''), { os: 'linux', architecture: 'x86_64' }, 'linux/amd64'],
  ])('%j with config %j -> %s', (c, o, want) => {
    const r = confirmCandidate(c, cfg(o));
    if (!r.ok) throw new Error(r.error);
    expect(formatPlatform(r.value)).toBe(want);
  });

  it.each([
    [cand('arm64', ''), { os: 'linux', architecture: 'amd64' }, 'named for arm64 but its config says linux/amd64'],
    [cand('arm', 'v6'), { os: 'linux', architecture: 'arm', variant: 'v7' }, 'named for arm/v6 but its config says linux/arm/v7'],
  ])('%j with config %j disagrees', (c, o, why) => {
    const r = confirmCandidate(c, cfg(o));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(why);
  });
});

describe('namedArchitecture and confirmIndexEntry', () => {
  it('reads the architecture a name claims, the longest spelling winning; none for a plain tag', () => {
    expect(namedArchitecture(ref('r.io/team/app:1.4-arm64'))?.architecture).toBe('arm64');
    expect(namedArchitecture(ref('r.io/team/app:1.4-arm64v8'))).toMatchObject({ architecture: 'arm64', variant: 'v8', spelling: 'arm64v8' });
    expect(namedArchitecture(ref('r.io/team/app:aarch64-1.4'))).toMatchObject({ architecture: 'arm64', style: 'tag-prefix' });
    expect(namedArchitecture(ref('r.io/team/app-s390x:1.4'))).toMatchObject({ architecture: 's390x', style: 'repository-suffix' });
    expect(namedArchitecture(ref('r.io/team/app:1.4'))).toBeUndefined();
  });
  it('an index entry must agree with its config on os and architecture, and on a variant both state', () => {
    const entry = (platform: string, declaredVariant = '') => {
      const p = parsePlatform(platform);
      if (!p.ok) throw new Error(p.error);
      return { platform: p.value, digest: 'sha256:x', declaredVariant };
    };
    const config = (text: string) => {
      const c = parseImageConfig(text);
      if (!c.ok) throw new Error(c.error);
      return c.value;
    };
    expect(confirmIndexEntry(entry('linux/arm64/v8'), config('{"os":"linux","architecture":"arm64"}')).ok).toBe(true);
    expect(confirmIndexEntry(entry('linux/arm64/v8', 'v8'), config('{"os":"linux","architecture":"amd64"}'))).toEqual({ ok: false, error: 'index entry sha256:x is listed as linux/arm64/v8 but its config says linux/amd64; left out' });
    expect(confirmIndexEntry(entry('linux/arm/v7', 'v7'), config('{"os":"linux","architecture":"arm","variant":"v6"}')).ok).toBe(false);
    expect(confirmIndexEntry(entry('linux/arm/v7'), config('{"os":"linux","architecture":"arm","variant":"v6"}')).ok).toBe(true);
  });
});
