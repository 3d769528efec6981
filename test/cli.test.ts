import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const polyarch = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/polyarch.js', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('the polyarch command', () => {
  it('prints help and exits 0', () => {
    const r = polyarch('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: polyarch');
  });

  it('exits 2 with one line on stderr on bad usage', () => {
    const r = polyarch('--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--no-such-flag');
  });
});
