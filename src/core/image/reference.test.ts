import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, pinReference, repositoryName, type ImageReference } from './reference.ts';

const D = 'sha256:' + 'a'.repeat(64);

describe('parseReference', () => {
  it.each<[string, ImageReference]>([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: undefined }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25', digest: undefined }],
    ['team/app:1.4', { registry: 'docker.io', repository: 'team/app', tag: '1.4', digest: undefined }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: undefined }],
    ['index.docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: undefined }],
    ['registry-1.docker.io/team/app', { registry: 'docker.io', repository: 'team/app', tag: 'latest', digest: undefined }],
    ['127.0.0.1:5000/team/app:1.4', { registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.4', digest: undefined }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest', digest: undefined }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app', tag: 'latest', digest: undefined }],
    ['quay.io/org/sub/app:v1', { registry: 'quay.io', repository: 'org/sub/app', tag: 'v1', digest: undefined }],
    [`app@${D}`, { registry: 'docker.io', repository: 'library/app', tag: undefined, digest: D }],
    [`ghcr.io/o/app:1.0@${D}`, { registry: 'ghcr.io', repository: 'o/app', tag: '1.0', digest: D }],
    ['[::1]:5000/app:x', { registry: '[::1]:5000', repository: 'app', tag: 'x', digest: undefined }],
    ['my-reg.example.com:443/a__b/c.d-e:T_1.x-y', { registry: 'my-reg.example.com:443', repository: 'a__b/c.d-e', tag: 'T_1.x-y', digest: undefined }],
    // Docker treats an upper-case first component as a registry host.
    ['UPPER/app', { registry: 'UPPER', repository: 'app', tag: 'latest', digest: undefined }],
    ['  nginx  ', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: undefined }],
  ])('%s', (input, want) => {
    const r = parseReference(input);
    expect(r).toEqual({ ok: true, value: want });
  });

  it.each([
    ['', 'empty'],
    ['Nginx', 'lower-case'],
    ['UPPER/', 'no repository name'],
    ['docker.io/Team/app', 'lower-case'],
    ['app:', 'malformed tag'],
    ['app:-x', 'malformed tag'],
    [`app:${'t'.repeat(129)}`, 'malformed tag'],
    ['app@sha256:abc', 'malformed digest'],
    [`app@sha256:${'A'.repeat(64)}`, '64 lower-case hex'],
    ['a b', 'whitespace'],
    ['app//x', 'malformed path component ""'],
    ['reg.io:port/app', 'malformed registry host'],
    ['-app', 'malformed path component "-app"'],
    [`reg.io/${'a'.repeat(250)}`, 'longer than 255'],
  ])('refuses %j (%s)', (input, why) => {
    const r = parseReference(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(why);
  });

  it('formats, pins and names', () => {
    const r = parseReference('127.0.0.1:5000/team/app:1.4');
    if (!r.ok) throw new Error(r.error);
    expect(formatReference(r.value)).toBe('127.0.0.1:5000/team/app:1.4');
    expect(pinReference(r.value, D)).toBe(`127.0.0.1:5000/team/app@${D}`);
    expect(repositoryName(r.value)).toBe('127.0.0.1:5000/team/app');
    const n = parseReference('nginx');
    if (!n.ok) throw new Error(n.error);
    expect(formatReference(n.value)).toBe('docker.io/library/nginx:latest');
  });
});

const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,6}){0,2}$/);
const host = fc.oneof(
  fc.constant('docker.io'),
  fc.constant('localhost'),
  fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){1,2}$/),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}$/), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`),
);
const tag = fc.stringMatching(/^[\w][\w.-]{0,20}$/);
const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);

describe('parseReference round trip', () => {
  it('parsing the normalised form gives the same value', () => {
    fc.assert(
      fc.property(fc.option(host, { nil: undefined }), fc.array(component, { minLength: 1, maxLength: 3 }), fc.option(tag, { nil: undefined }), fc.option(digest, { nil: undefined }), (h, path, t, d) => {
        const text = `${h ? `${h}/` : ''}${path.join('/')}${t !== undefined ? `:${t}` : ''}${d !== undefined ? `@${d}` : ''}`;
        const first = parseReference(text);
        if (!first.ok) return; // e.g. a bare host-less first component that looks like a domain is fine to refuse
        const again = parseReference(formatReference(first.value));
        expect(again).toEqual(first);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every generated name with an explicit registry', () => {
    fc.assert(
      fc.property(host, fc.array(component, { minLength: 1, maxLength: 3 }), tag, (h, path, t) => {
        const r = parseReference(`${h}/${path.join('/')}:${t}`);
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value.tag).toBe(t);
      }),
      { numRuns: 300 },
    );
  });
});
