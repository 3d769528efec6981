import { describe, expect, it } from 'vitest';
import { podLogTail } from './kubelet.ts';

describe('podLogTail: what pods/log sends (tailLines, then limitBytes)', () => {
  const log = 'one\ntwo\nthree\n';
  it('keeps the last lines, the final newline ending the last one', () => {
    expect(podLogTail(log, { tailLines: 2 })).toEqual({ ok: true, value: 'two\nthree\n' });
    expect(podLogTail(log, { tailLines: 0 })).toEqual({ ok: true, value: '' });
    expect(podLogTail(log, {})).toEqual({ ok: true, value: log });
  });

  it('then cuts after limitBytes, on a huge log as on a small one', () => {
    const huge = `${'x'.repeat(20 * 1024 * 1024)}\nexec /app: exec format error\n`;
    expect(podLogTail(huge, { tailLines: 1, limitBytes: 4096 })).toEqual({ ok: true, value: 'exec /app: exec format error\n' });
    const r = podLogTail(huge, { limitBytes: 10 });
    expect(r.ok && r.value).toBe('x'.repeat(10));
  });

  it('refuses a negative tailLines or a limitBytes below 1, naming the field', () => {
    expect(podLogTail(log, { tailLines: -1 })).toEqual({ ok: false, field: 'tailLines', error: 'Invalid value: -1: must be greater than or equal to 0' });
    expect(podLogTail(log, { limitBytes: 0 })).toEqual({ ok: false, field: 'limitBytes', error: 'Invalid value: 0: must be greater than 0' });
  });
});
