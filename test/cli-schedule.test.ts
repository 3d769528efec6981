/** `polyarch schedule` end to end: the real command, real files, exit codes and output. */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcess, polyarch } from './support/cli.ts';

const root = join(import.meta.dirname, '..');
const fx = (...p: string[]) => join(root, 'test', 'fixtures', 'placement', ...p);

describe('polyarch schedule', () => {
  it('--output json has the documented shape', async () => {
    const r = await polyarch('schedule', fx('graviton', 'cluster.yaml'), fx('graviton', 'workloads.yaml'), '--images', fx('graviton', 'images.json'), '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { decisions: Record<string, unknown>[]; summary: { scheduled: number; unschedulable: number } };
    expect(out.summary).toEqual({ scheduled: 8, unschedulable: 2 });
    for (const d of out.decisions) expect(Object.keys(d)).toEqual(['pod', 'node', 'platform', 'images', 'reason']);
    const huge = out.decisions.find((d) => d['pod'] === 'shop/huge');
    expect(huge).toEqual({ pod: 'shop/huge', node: null, platform: null, images: {}, reason: '0/6 nodes are available: 6 Insufficient cpu.' });
  });

  it('--explain prints the full decision; text output has a table and a summary', async () => {
    const args = [fx('loongarch', 'cluster.yaml'), fx('loongarch', 'workloads.json'), '--images', fx('loongarch', 'images.yaml')];
    const explain = await polyarch('schedule', ...args, '--explain', 'db-0');
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('pod erp/db-0 (priority 0)');
    expect(explain.stdout).toContain('postgres: harbor.corp.example/erp/db:15 -> harbor.corp.example/erp/db@sha256:');
    expect(explain.stdout).toMatch(/NODE\s+PLATFORM\s+TOTAL\s+LeastAllocated/);
    const text = await inProcess('schedule', ...args, '--prefer', 'linux/arm64=100', '--weight', 'BalancedAllocation=0');
    expect(text.stdout).toMatch(/^POD\s+NODE\s+PLATFORM\s+REASON/);
    expect(text.stdout).toContain('13 scheduled, 0 unschedulable');
    expect(text.stdout).toContain('ArchitecturePreference 100x2');
    expect(text.stdout).not.toContain('BalancedAllocation');
  });

  it('exit 2 on bad usage and bad manifests, 1 on a failed operation, errors on one line naming the field', async () => {
    const badTimeout = await inProcess('schedule', fx('graviton', 'cluster.yaml'), '--timeout', 'soon');
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toBe('polyarch: --timeout "soon": want a positive number of milliseconds\n');

    const dir = mkdtempSync(join(tmpdir(), 'polyarch-schedule-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx\n    resources: {requests: {memory: 1GB}}\n');
    const r = await inProcess('schedule', bad, '--images', fx('graviton', 'images.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`polyarch: ${bad}: document 1 (Pod p): spec.containers[0].resources.requests.memory: invalid quantity "1GB": unknown suffix "GB"\n`);

    const weight = await inProcess('schedule', bad, '--images', fx('graviton', 'images.json'), '--weight', 'Nope=1');
    expect(weight.code).toBe(2);
    expect(weight.stderr).toMatch(/^polyarch: weights\.Nope: unknown score plugin/);
    const seed = await inProcess('schedule', bad, '--images', fx('graviton', 'images.json'), '--seed', 'x');
    expect(seed.code).toBe(2);
    const missing = await inProcess('schedule', fx('graviton', 'cluster.yaml'), fx('graviton', 'workloads.yaml'), '--images', fx('graviton', 'images.json'), '--explain', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^polyarch: --explain nope: no pending pod of that name \(pending: shop\/web-[^\n]*\)\n$/);
    const badCatalog = await inProcess('schedule', fx('graviton', 'cluster.yaml'), '--images', fx('graviton', 'workloads.yaml'));
    expect(badCatalog.code).toBe(1);
    expect(badCatalog.stderr).toContain('workloads.yaml: document 1: reference');
  });
});
