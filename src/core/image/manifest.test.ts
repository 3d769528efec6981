import { describe, expect, it } from 'vitest';
import { formatPlatform } from '../platform/platform.ts';
import { MEDIA_TYPES, parseImageConfig, parseManifest } from './manifest.ts';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c: string, extra: object = {}): object => ({ mediaType, digest: d(c), size: 100, ...extra });
const image = (mediaType?: string): object => ({
  schemaVersion: 2,
  ...(mediaType ? { mediaType } : {}),
  config: desc(MEDIA_TYPES.ociConfig, 'c'),
  layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', 'e')],
});
const index = (mediaType: string | undefined, manifests: object[]): object => ({ schemaVersion: 2, ...(mediaType ? { mediaType } : {}), manifests });
const entry = (c: string, os: string, architecture: string, variant?: string, extra: object = {}): object =>
  desc(MEDIA_TYPES.ociManifest, c, { platform: { os, architecture, ...(variant ? { variant } : {}) }, ...extra });

describe('parseManifest: kinds', () => {
  it.each([
    ['OCI index by body mediaType', index(MEDIA_TYPES.ociIndex, [entry('1', 'linux', 'amd64')]), undefined, 'index'],
    ['OCI index by Content-Type', index(undefined, [entry('1', 'linux', 'amd64')]), MEDIA_TYPES.ociIndex, 'index'],
    ['OCI index by shape', index(undefined, [entry('1', 'linux', 'amd64')]), 'application/octet-stream', 'index'],
    ['Docker manifest list', index(MEDIA_TYPES.dockerList, [entry('1', 'linux', 'amd64')]), MEDIA_TYPES.dockerList, 'index'],
    ['OCI manifest', image(MEDIA_TYPES.ociManifest), MEDIA_TYPES.ociManifest, 'image'],
    ['OCI manifest without mediaType', image(), undefined, 'image'],
    ['Docker schema2', image(MEDIA_TYPES.dockerManifest), `${MEDIA_TYPES.dockerManifest}; charset=utf-8`, 'image'],
  ])('%s', (_name, body, contentType, kind) => {
    const r = parseManifest(JSON.stringify(body), contentType);
    expect(r.ok && r.value.kind).toBe(kind);
  });

  it('gives the config descriptor of an image manifest', () => {
    const r = parseManifest(JSON.stringify(image(MEDIA_TYPES.dockerManifest)));
    expect(r).toEqual({ ok: true, value: { kind: 'image', mediaType: MEDIA_TYPES.dockerManifest, config: { digest: d('c'), mediaType: MEDIA_TYPES.ociConfig, size: 100 } } });
  });
});

describe('parseManifest: refusals name the field', () => {
  it.each([
    ['not JSON', '{"schemaVersion":', undefined, 'manifest is not valid JSON'],
    ['an array', '[]', undefined, 'expected a JSON object'],
    ['schema 1 by body', JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), undefined, 'schema 1 is not supported'],
    ['schema 1 by Content-Type', JSON.stringify({ schemaVersion: 1 }), MEDIA_TYPES.dockerSchema1Signed, 'schema 1 is not supported'],
    ['schema 1 signed type only', JSON.stringify({}), MEDIA_TYPES.dockerSchema1Signed, 'schema 1 is not supported'],
    ['bad digest in index', JSON.stringify(index(MEDIA_TYPES.ociIndex, [{ ...(entry('1', 'linux', 'amd64') as object), digest: 'sha256:zz' }])), undefined, 'manifests[0].digest'],
    ['missing size', JSON.stringify(index(MEDIA_TYPES.ociIndex, [{ mediaType: MEDIA_TYPES.ociManifest, digest: d('1') }])), undefined, 'manifests[0].size'],
    ['manifests not an array', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: {} }), undefined, 'manifests'],
    ['schemaVersion 3', JSON.stringify({ ...(image(MEDIA_TYPES.ociManifest) as object), schemaVersion: 3 }), undefined, 'schemaVersion'],
    ['config missing', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, layers: [] }), undefined, 'image manifest: config'],
    ['layer without digest', JSON.stringify({ ...(image(MEDIA_TYPES.ociManifest) as object), layers: [{ mediaType: 'x', size: 1 }] }), undefined, 'layers[0].digest'],
    ['body and header disagree', JSON.stringify(image(MEDIA_TYPES.ociManifest)), MEDIA_TYPES.dockerManifest, 'disagrees with Content-Type'],
    ['unknown mediaType', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }), undefined, 'unsupported mediaType'],
    ['no shape', JSON.stringify({ schemaVersion: 2 }), undefined, 'not an image manifest or index'],
  ])('%s', (_name, text, contentType, why) => {
    const r = parseManifest(text, contentType);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(why);
  });
});

describe('parseManifest: index entries', () => {
  const body = index(MEDIA_TYPES.ociIndex, [
    entry('1', 'linux', 'amd64'),
    entry('2', 'linux', 'arm64', 'v8'),
    entry('3', 'linux', 'aarch64'),
    entry('4', 'linux', 'arm', 'v6'),
    entry('5', 'unknown', 'unknown', undefined, { annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d('1') } }),
    entry('6', 'unknown', 'unknown'),
    entry('7', 'linux', 'sparc64'),
    desc(MEDIA_TYPES.ociManifest, '8'),
    desc(MEDIA_TYPES.ociIndex, '9', { platform: { os: 'linux', architecture: 'riscv64' } }),
    entry('a', 'linux', 'loongarch64'),
  ]);
  const r = parseManifest(JSON.stringify(body));
  if (!r.ok || r.value.kind !== 'index') throw new Error('expected an index');
  const { entries, warnings } = r.value;

  it('normalises platforms and keeps the index order', () => {
    expect(entries.map((e) => `${formatPlatform(e.platform)} ${e.digest.slice(7, 8)}`)).toEqual([
      'linux/amd64 1',
      'linux/arm64/v8 2',
      'linux/arm64/v8 3',
      'linux/arm/v6 4',
      'linux/loong64 a',
    ]);
  });

  it('ignores attestations and unknown/unknown silently, warns about the rest', () => {
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('unknown architecture "sparc64"');
    expect(warnings[1]).toContain('has no platform');
    expect(warnings[2]).toContain('not an image manifest');
  });
});

describe('parseImageConfig', () => {
  it.each([
    [{ architecture: 'amd64', os: 'linux' }, 'linux/amd64', ''],
    [{ architecture: 'arm64', os: 'linux', variant: 'v8' }, 'linux/arm64/v8', 'v8'],
    [{ architecture: 'arm', os: 'linux' }, 'linux/arm/v7', ''],
    [{ architecture: 'aarch64', os: 'Linux', rootfs: {} }, 'linux/arm64/v8', ''],
  ])('%j -> %s', (config, want, declared) => {
    const r = parseImageConfig(JSON.stringify(config));
    if (!r.ok) throw new Error(r.error);
    expect(formatPlatform(r.value.platform)).toBe(want);
    expect(r.value.declaredVariant).toBe(declared);
  });

  it.each([
    ['{', 'image config is not valid JSON'],
    [JSON.stringify({ os: 'linux' }), 'image config: architecture'],
    [JSON.stringify({ architecture: 'amd64', os: 7 }), 'image config: os'],
    [JSON.stringify({ architecture: 'vax', os: 'linux' }), 'unknown architecture "vax"'],
  ])('refuses %s', (text, why) => {
    const r = parseImageConfig(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(why);
  });
});
