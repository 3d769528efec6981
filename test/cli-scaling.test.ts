// End to end: the `polyarch forecast` and `polyarch plan` commands as a user runs them.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inProcess, polyarch } from './support/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string): string => join(root, 'test', 'fixtures', name);

const tmp = mkdtempSync(join(tmpdir(), 'polyarch-cli-'));
const write = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe('polyarch forecast', () => {
  it('forecasts and scores the real Bitbrains sample (JSON)', async () => {
    const r = await polyarch('forecast', '--input', fixture('usage-bitbrains-5vm-head3000.csv'), '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ window: 10, horizon: 5, input: { format: 'generic', units: 'fraction', samples: 3000, corrupt: 0 } });
    // 4 VMs x 4 metrics; 750 five-minute samples each = 3746 minutes (the last sample is one minute).
    expect(out.series).toHaveLength(16);
    expect(out.series[0]).toMatchObject({ id: 'vm-17', metric: 'cpu', samples: 749 * 5 + 1 });
    for (const s of out.series) expect(s.next).toBeGreaterThanOrEqual(0);
    expect(Object.keys(out.evaluation).sort()).toEqual(['dma', 'holt', 'last', 'max', 'mean', 'vpa']);
    // Every forecaster is scored on the same points.
    const points = new Set(Object.values(out.evaluation).map((e) => (e as { cpu: { points: number } }).cpu.points));
    expect(points.size).toBe(1);
    expect([...points][0]).toBe(4 * (3746 - 19 - 5 + 1));
    const dma = out.evaluation.dma.cpu;
    for (const k of ['mae', 'rmse', 'under', 'slack', 'shortage']) expect(dma[k]).toBeGreaterThanOrEqual(0);
    expect(dma.rmse).toBeGreaterThanOrEqual(dma.mae);
    // The window maximum over-provisions: it is under far less often than the last value.
    expect(out.evaluation.max.cpu.under).toBeLessThan(out.evaluation.last.cpu.under);
    // Coverage of the DMA + the P95 of its own errors (the scaling plan's headroom), on the same points, against what was asked.
    expect(out.coverage).toMatchObject({ errorQuantile: 0.95, errorWindow: 60, headroomFloor: 0.05, cpu: { points: 4 * (3746 - 19 - 5 + 1), asked: 0.95 } });
    expect(out.coverage.cpu.achieved).toBeGreaterThan(0.8);
    expect(out.coverage.cpu.achieved).toBeLessThanOrEqual(1);
  });

  it('prints the coverage achieved against the error quantile asked', async () => {
    const r = await inProcess('forecast', '--input', fixture('usage-bitbrains-5vm-head3000.csv'), '--error-quantile', '0.5', '--error-window', '30');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('coverage: dma + P50 of its last 30 errors (floor 0.05 x forecast), as the scaling plan sets it');
    expect(r.stdout).toMatch(/\ncpu +14892 +50\.0% +\d+\.\d% +\d/);
  });

  it('--step 5 gives one value per 5-minute sample, window and horizon in steps', async () => {
    const r = await inProcess('forecast', '--input', fixture('usage-bitbrains-5vm-head3000.csv'), '--step', '5', '--horizon', '1', '--output', 'json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.step).toBe(5);
    expect(out.series[0]).toMatchObject({ id: 'vm-17', metric: 'cpu', samples: 750 });
    expect(out.evaluation.dma.cpu.points).toBe(4 * (750 - 19 - 1 + 1));
  });

  it('prints a table by default, sums up corrupt lines on stderr with the first one\'s line number', async () => {
    const f = write('bad.csv', 'timestamp,id,cpu,mem,net,disk\n0,a,0.1,0.1,0.1,0.1\n60,a,x,0.1,0.1,0.1\n120,a,0.2,0.1,0.1,0.1\n');
    const r = await inProcess('forecast', '--input', f, '--window', '2', '--horizon', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`polyarch: ${f}: 1 corrupt line(s) skipped (first: line 3: cpu 'x' is not a number)\n`);
    expect(r.stdout).toMatch(/1 corrupt line\(s\) skipped/);
    expect(r.stdout).toMatch(/^dma\s+cpu\s+/m);
  });

  it('fails clearly: empty file, missing column, missing file, bad option', async () => {
    const empty = await inProcess('forecast', '--input', write('empty.csv', ''));
    expect(empty).toMatchObject({ code: 1, stderr: `polyarch: ${join(tmp, 'empty.csv')}: empty file: no header and no samples\n` });
    const col = await inProcess('forecast', '--input', write('nodisk.csv', 'timestamp,id,cpu,mem,net\n0,a,1,1,1\n'));
    expect(col.code).toBe(1);
    expect(col.stderr).toMatch(/line 1: missing column disk/);
    expect(col.stderr.trim().split('\n')).toHaveLength(1);
    expect((await inProcess('forecast', '--input', '/nonexistent.csv')).stderr).toBe('polyarch: /nonexistent.csv: no such file: /nonexistent.csv\n');
    const bad = await inProcess('forecast', '--input', fixture('usage-bitbrains-5vm-head3000.csv'), '--window', '1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--window/);
  });
});

describe('polyarch plan', () => {
  it('plans the example: reclaims by score (old surplus compacted now in a deficit, after a proactive reclaim), gives the rest back', async () => {
    const r = await inProcess('plan', '--input', join(root, 'examples', 'plan.json'), '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.policy).toEqual({ window: 10, horizon: 5, headroom: 0.15, errorQuantile: 0.95, errorWindow: 60, youngMinutes: 10, compactStep: 0.25, usageMinutes: 60 });
    expect(out.fits).toBe(false);
    expect(out.releases.map((x: { app: string; resource: string; kind: string }) => `${x.app}/${x.resource}/${x.kind}`)).toEqual([
      'reporting/cpu/compact', 'reporting/memory/compact', 'reporting/network/release', 'batch/cpu/release', 'cache/memory/compact',
    ]);
    const cache = out.apps.find((a: { name: string }) => a.name === 'cache');
    const mem = cache.actions.filter((a: { resource: string }) => a.resource === 'memory');
    expect(mem.map((a: { kind: string }) => a.kind)).toEqual(['proactive-reclaim', 'compact']);
    expect(mem[1]).toMatchObject({ amount: 28 * 2 ** 30, generation: 'old', reason: 'OldSurplusCompacted' });
    // Old surplus of the others, with room, is marked for the next plans.
    expect(cache.actions.find((a: { resource: string }) => a.resource === 'cpu')).toMatchObject({ kind: 'mark', reason: 'OldSurplusMarked' });
    const newcomer = out.apps.find((a: { name: string }) => a.name === 'newcomer');
    expect(newcomer.forecasts.cpu).toEqual({ next: null, reason: 'starting', have: 3, needed: 19 });
    expect(out.unmet).toEqual({ cpu: 0, memory: 0, network: 0, disk: 0 });
    expect(out.resources.memory.deficit).toBeGreaterThan(0);
    // The headroom says where it came from.
    const web = out.apps.find((a: { name: string }) => a.name === 'web');
    expect(web.headroom.cpu).toMatchObject({ source: 'floor', quantile: 0.95 });
  });

  it('real Bitbrains usage: a deficit compacts old surplus now; the next plan fed the marks compacts a step of the others', async () => {
    const file = join(root, 'examples', 'plan-bitbrains.json');
    const first = JSON.parse((await inProcess('plan', '--input', file, '--output', 'json')).stdout);
    // vm-303 jumps to ~98% cpu; vm-401 (largest surplus) covers the deficit at once; the other surplus is marked.
    expect(first.resources.cpu).toMatchObject({ deficit: 2.236, released: 2.236, unmet: 0 });
    expect(first.apps.map((a: { name: string; actions: { kind: string; resource: string }[] }) => [a.name, a.actions.filter((x) => x.resource === 'cpu').map((x) => x.kind)])).toEqual([
      ['vm-17', ['mark']], ['vm-256', ['mark']], ['vm-303', ['grant']], ['vm-401', ['compact', 'mark']],
    ]);
    expect(first.apps[2].headroom.cpu).toMatchObject({ source: 'errors', errors: 37 });
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.apps.forEach((a: { marked?: unknown }, i: number) => (a.marked = first.apps[i].marks));
    const second = JSON.parse((await inProcess('plan', '--input', write('next.json', JSON.stringify(doc)), '--output', 'json')).stdout);
    expect(second.releases.filter((r: { resource: string }) => r.resource === 'cpu').map((r: { app: string; amount: number; kind: string }) => [r.app, r.amount, r.kind])).toEqual([
      ['vm-401', 2.236, 'compact'], ['vm-256', 0.25, 'compact'], ['vm-17', 0.25, 'compact'],
    ]);
  });

  it('prints the plan as text by default', async () => {
    const r = await inProcess('plan', '--input', join(root, 'examples', 'plan.json'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Not enough free capacity/);
    expect(r.stdout).toMatch(/Releases, in the order taken:\n {2}1\. reporting \(score 1\.5030\): compact 3125m cpu, old\n/);
    expect(r.stdout).toMatch(/proactive-reclaim memory 28Gi \[old\]/);
    expect(r.stdout).toMatch(/forecast demand \+ headroom: cpu \d+m \+ \d+m \(floor/);
  });

  it('reads YAML and names the bad field', async () => {
    const ok = write('p.yaml', 'capacity: {cpu: 4, memory: 8Gi, network: 1G, disk: 1G}\napps:\n  - name: a\n    allocation: {cpu: 500m, memory: 1Gi, network: 10M, disk: 10M}\n    usage: {cpu: [0.5, 0.5, 0.5]}\n');
    const r = await inProcess('plan', '--input', ok, '--output', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).apps[0].allocation.cpu).toBe(0.5);
    const bad = write('bad.yaml', 'capacity: {cpu: 4, memory: 8Gx, network: 1G, disk: 1G}\napps: []\n');
    expect(await inProcess('plan', '--input', bad)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^polyarch: .*bad\.yaml: capacity\.memory: invalid quantity "8Gx": unknown suffix "Gx"/) });
    const badUsage = write('u.json', JSON.stringify({ capacity: { cpu: 1, memory: 1, network: 1, disk: 1 }, apps: [{ name: 'a', allocation: { cpu: 1, memory: 1, network: 1, disk: 1 }, usage: { cpu: [0.5, 1.5] } }] }));
    expect((await inProcess('plan', '--input', badUsage)).stderr).toMatch(/apps\[0\]\.usage\.cpu\[1\]: a utilisation must be in \[0,1\]/);
    const notJson = write('x.json', '{');
    expect((await inProcess('plan', '--input', notJson)).stderr).toMatch(/not valid JSON/);
  });
});
