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
    expect(reg.run('r.test/web:1', P('linux/arm64'))).toEqual({ kind: 'runs', platform: P('linux/arm64') });
    expect(reg.run('r.test/web:1', P('linux/riscv64'))).toEqual({ kind: 'no-matching-manifest' });
    expect(reg.run('r.test/legacy:9', P('linux/loong64'))).toEqual({ kind: 'exec-format-error', platform: P('linux/amd64'), binary: P('linux/amd64'), entrypoint: '/app' });
    expect(reg.run('r.test/pay:3', P('linux/riscv64'))).toMatchObject({ kind: 'exec-format-error' });
    expect(reg.run('r.test/pay:3-riscv64', P('linux/riscv64'))).toEqual({ kind: 'runs', platform: P('linux/riscv64') });
    expect(reg.run('r.test/none:1', P('linux/amd64'))).toEqual({ kind: 'not-found' });
  });

  it('answers S1 with digests that pull exactly that platform, and per-arch tags as one answer', () => {
    const web = reg.answer('r.test/web:1');
    if (!web?.ok) throw new Error('no answer');
    expect(web.value.source).toBe('index');
    const arm = web.value.platforms.find((p) => p.platform.architecture === 'arm64')!;
    expect(arm.image).toMatch(/^r\.test\/web@sha256:[0-9a-f]{64}$/);
    expect(reg.run(arm.image, P('linux/arm64'))).toEqual({ kind: 'runs', platform: P('linux/arm64') });
    expect(reg.run(arm.image, P('linux/amd64'))).toMatchObject({ kind: 'exec-format-error' });
    const pay = reg.answer('r.test/pay:3');
    expect(pay?.ok && pay.value.source).toBe('tag-convention');
    expect(pay?.ok && pay.value.platforms.map((p) => p.platform.architecture)).toEqual(['amd64', 'riscv64']);
    expect(reg.answer('r.test/none:1')).toMatchObject({ ok: false, error: { kind: 'not-found' } });
  });

  it('an index entry that lies (says arm64, the binary is amd64) is answered as arm64 and dies with exec format error on arm64', () => {
    const lying = new SimRegistry([{ reference: 'r.test/liar:1', platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' }, entrypoint: '/bin/liar' }]);
    const a = lying.answer('r.test/liar:1');
    expect(a.ok && a.value.platforms.map((p) => p.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(lying.run('r.test/liar:1', P('linux/arm64'))).toEqual({ kind: 'exec-format-error', platform: P('linux/arm64'), binary: P('linux/amd64'), entrypoint: '/bin/liar' });
    expect(lying.run('r.test/liar:1', P('linux/amd64'))).toEqual({ kind: 'runs', platform: P('linux/amd64') });
    const arm = a.ok ? a.value.platforms.find((p) => p.platform.architecture === 'arm64')! : undefined;
    expect(lying.run(arm!.image, P('linux/arm64'))).toMatchObject({ kind: 'exec-format-error' });
  });
});
