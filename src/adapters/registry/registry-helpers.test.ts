import { describe, expect, it } from 'vitest';
import { parseChallenge } from './auth.ts';
import { findCredential, parseDockerConfig } from './credentials.ts';
import { isLoopback, parseRetryAfter, schemeFor } from './http.ts';

describe('schemeFor', () => {
  it.each([
    ['127.0.0.1:5000', [], 'http'],
    ['127.1.2.3', [], 'http'],
    ['localhost:5000', [], 'http'],
    ['[::1]:5000', [], 'http'],
    ['[::ffff:127.0.0.1]:5000', [], 'http'],
    ['[::ffff:7f00:1]:5000', [], 'http'],
    ['2130706433:5000', [], 'https'],
    ['registry.local:5000', [], 'https'],
    ['registry.local:5000', ['registry.local:5000'], 'http'],
    ['registry.local:5000', ['registry.local'], 'http'],
    ['REGISTRY.local', ['registry.local'], 'http'],
    ['docker.io', ['registry.local'], 'https'],
    ['10.0.0.1:5000', [], 'https'],
  ])('%s (insecure %j) -> %s', (host, insecure, want) => {
    expect(schemeFor(host, insecure)).toBe(want);
  });

  it('does not take a name that merely starts with 127 for loopback', () => {
    expect(isLoopback('127.evil.example')).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it.each([
    ['5', 5000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 12:00:07 GMT', 7000],
    ['Thu, 01 Jan 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j -> %j', (v, want) => {
    expect(parseRetryAfter(v, now)).toBe(want);
  });
});

describe('parseChallenge', () => {
  it.each([
    ['Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"', { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' } }],
    ['bearer realm="r", service="s"', { scheme: 'bearer', params: { realm: 'r', service: 's' } }],
    ['Basic realm="polyarch-test"', { scheme: 'basic', params: { realm: 'polyarch-test' } }],
    ['Basic realm=plain', { scheme: 'basic', params: { realm: 'plain' } }],
    ['Bearer realm="a\\"b"', { scheme: 'bearer', params: { realm: 'a"b' } }],
  ])('%s', (h, want) => {
    expect(parseChallenge(h)).toEqual(want);
  });

  it.each([undefined, '', 'Negotiate abc', '!!'])('ignores %j', (h) => {
    expect(parseChallenge(h)).toBeUndefined();
  });
});

describe('credentials', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const cfg = (text: object) => {
    const r = parseDockerConfig(JSON.stringify(text));
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };

  it('finds Docker Hub credentials under any of its keys', () => {
    const c = cfg({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    expect(findCredential([c], 'docker.io')).toEqual({ kind: 'basic', username: 'hub', password: 'pw' });
    expect(findCredential([c], 'quay.io')).toBeUndefined();
  });

  it('matches registry keys written as URLs and with ports', () => {
    const c = cfg({ auths: { 'https://reg.example:5000/v2/': { username: 'u', password: 'p:with:colons' }, 'other.example': { auth: b64('o:x:y') } } });
    expect(findCredential([c], 'reg.example:5000')).toEqual({ kind: 'basic', username: 'u', password: 'p:with:colons' });
    expect(findCredential([c], 'other.example')).toEqual({ kind: 'basic', username: 'o', password: 'x:y' });
    expect(findCredential([c], 'reg.example')).toBeUndefined();
  });

  it('prefers the first config (a pull secret before the auth file) and knows tokens', () => {
    const secret = cfg({ auths: { 'r.io': { identitytoken: 'refresh', username: '<token>' } } });
    const file = cfg({ auths: { 'r.io': { auth: b64('a:b') }, 't.io': { registrytoken: 'tok' } } });
    expect(findCredential([secret, file], 'r.io')).toEqual({ kind: 'identity-token', username: '<token>', token: 'refresh' });
    expect(findCredential([file, secret], 'r.io')).toEqual({ kind: 'basic', username: 'a', password: 'b' });
    expect(findCredential([file], 't.io')).toEqual({ kind: 'registry-token', token: 'tok' });
  });

  it('reads the legacy .dockercfg map and a credsStore-only config', () => {
    expect(findCredential([cfg({ 'r.io': { auth: b64('l:m') } })], 'r.io')).toEqual({ kind: 'basic', username: 'l', password: 'm' });
    expect(cfg({ credsStore: 'desktop' })).toEqual({ auths: {} });
  });
});
