import { describe, expect, it } from 'vitest';
import { migrationName, parseMigration } from './record.ts';

describe('Migration record', () => {
  it('is named per pod incarnation, DNS-1123', () => {
    expect(migrationName({ metadata: { namespace: 'Shop', name: 'web_1', uid: 'ABCD-1234-ef' } })).toBe('shop.web-1.abcd1234');
  });

  it('is checked when read back, the error naming the field', () => {
    const spec = { pod: 'default/solo', reason: 'node-lost', method: 'recreate', tolerationSeconds: null };
    expect(parseMigration({ name: 'm', spec, status: { phase: 'Blocked', message: 'x' } })).toMatchObject({ ok: true, value: { name: 'm', spec } });
    expect(parseMigration({ name: 'm', spec: { ...spec, reason: 'gone' } })).toMatchObject({ ok: false, error: expect.stringMatching(/^spec\.reason: /) });
    expect(parseMigration({ name: 'm', spec: { ...spec, pod: 'solo' } })).toEqual({ ok: false, error: 'spec.pod: expected namespace/name' });
    expect(parseMigration({ name: 'm', spec, status: { phase: 'Done' } })).toMatchObject({ ok: false, error: expect.stringMatching(/^status\.phase: /) });
    expect(parseMigration({ spec })).toMatchObject({ ok: false, error: expect.stringMatching(/^name: /) });
  });
});
