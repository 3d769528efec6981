import { describe, expect, it } from 'vitest';
import { SimRegistry } from './registry.ts';
import { parsePlatform, type Platform } from '../core/platform/platform.ts';

const P = (s: string): Platform => {
  const r = parsePlatform(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('SimRegistry', () => {
  const reg = new SimRegistry([
    { reference: 'r.test/web:1', platforms: ['linux/amd64', 'linux/arm64'] },
    { reference: 'r.test/legacy:9', platforms: ['linux/amd64'] },
    { reference: 'r.test/pay:3', tags: { 'linux/amd64': 'r.test/pay:3', 'linux/riscv64': 'r.test/pay:3-riscv64' } },
  ]);

  it('pulls as a container runtime would: the index picks the platform, a single image runs or fails to exec', () => {
    expect(reg.pull('r.test/web:1', P('linux/arm64'))).toEqual({ ok: true, platform: P('linux/arm64') });
    expect(reg.pull('r.test/web:1', P('linux/riscv64'))).toEqual({ ok: false, failure: 'no matching manifest for platform' });
    expect(reg.pull('r.test/legacy:9', P('linux/loong64'))).toEqual({ ok: false, failure: 'exec format error', platform: P('linux/amd64') });
    expect(reg.pull('r.test/pay:3', P('linux/riscv64'))).toMatchObject({ ok: false, failure: 'exec format error' });
    expect(reg.pull('r.test/pay:3-riscv64', P('linux/riscv64'))).toEqual({ ok: true, platform: P('linux/riscv64') });
    expect(reg.pull('r.test/none:1', P('linux/amd64'))).toEqual({ ok: false, failure: 'not found' });
  });

  it('answers S1 with digests that pull exactly that platform, and per-arch tags as one answer', () => {
    const web = reg.answer('r.test/web:1');
    if (!web?.ok) throw new Error('no answer');
    expect(web.value.source).toBe('index');
    const arm = web.value.platforms.find((p) => p.platform.architecture === 'arm64')!;
    expect(arm.image).toMatch(/^r\.test\/web@sha256:[0-9a-f]{64}$/);
    expect(reg.pull(arm.image, P('linux/arm64'))).toEqual({ ok: true, platform: P('linux/arm64') });
    expect(reg.pull(arm.image, P('linux/amd64'))).toMatchObject({ ok: false, failure: 'exec format error' });
    const pay = reg.answer('r.test/pay:3');
    expect(pay?.ok && pay.value.source).toBe('tag-convention');
    expect(pay?.ok && pay.value.platforms.map((p) => p.platform.architecture)).toEqual(['amd64', 'riscv64']);
    expect(reg.answer('r.test/none:1')).toMatchObject({ ok: false, error: { kind: 'not-found' } });
  });
});
