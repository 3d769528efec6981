// `polyarch simulate` as a user runs it: exit codes, errors on one line naming the
// document and field, JSON on stdout, the report written.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/polyarch.js', import.meta.url));
const small = fileURLToPath(new URL('../fixtures/small-scenario.yaml', import.meta.url));

function polyarch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('polyarch simulate', () => {
  it('prints JSON with every strategy and writes a self-contained report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-sim-'));
    const report = join(dir, 'out.html');
    const r = await polyarch(['simulate', '--scenario', small, '--seed', '5', '--output', 'json', '--report', report, '--strategies', 'polyarch,kube-scheduler,static']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.seed).toBe(5);
    expect(json.strategies.map((s: { strategy: string }) => s.strategy)).toEqual(['polyarch', 'kube-scheduler', 'static']);
    expect(json.report).toBe(report);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']https?:/);
  }, 60_000);

  it('prints the summary tables as text', async () => {
    const r = await polyarch(['simulate', '--scenario', small, '--no-report', '--strategies', 'polyarch,per-arch']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Placements by platform (polyarch)');
    expect(r.stdout).toContain('Migrations (polyarch)');
    expect(r.stdout).toMatch(/control-plane nodes\s+3\s+9/);
  }, 60_000);

  it('a bad scenario: exit 2, the document and field named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-sim-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(small, 'utf8').replace('replicas: 4', 'replicas: -4'));
    const r = await polyarch(['simulate', '--scenario', bad, '--no-report']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('polyarch: document 4 (Deployment shop/web): spec.replicas: Too small: expected number to be >=0\n');
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  }, 60_000);

  it('bad usage: a missing file, a bad seed, an unknown strategy', async () => {
    const missing = await polyarch(['simulate', '--scenario', '/nonexistent/s.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('polyarch: /nonexistent/s.yaml: cannot read: ENOENT\n');
    const seed = await polyarch(['simulate', '--seed', 'x']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/^polyarch: --seed: want an integer/);
    const strat = await polyarch(['simulate', '--strategies', 'polyarch,magic']);
    expect(strat.code).toBe(2);
    expect(strat.stderr).toMatch(/^polyarch: --strategies: unknown magic/);
  }, 60_000);
});
