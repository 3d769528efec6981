// Issue 15 items 3, 5, 6 and 7 at the CLI: inputs that expand are limited before work
// starts, bad values are usage errors, messages name the file, machine output keeps
// full precision, and the documented example command works as written.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcess, polyarch, ROOT } from './support/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'polyarch-hostile-'));
const write = (name: string, text: string): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

const deployment = (name: string, replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: 'reg.test/web:1', resources: {requests: {cpu: 10m, memory: 1Mi}}}]}
`;
const nodeDoc = `apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/arch: amd64, kubernetes.io/os: linux}}
status: {allocatable: {cpu: '4', memory: 8Gi, pods: '110'}}
`;
const catalog = write('images.yaml', "images:\n  reg.test/web:1:\n    - {platform: linux/amd64, digest: 'sha256:e219ecca5b4c0a49428316de24bdbe62b228c4fe1fd472e664abbd6567f6f978'}\n");

const scenario = (policy: string, extra = '', replicas = 2, usage = ''): string => `apiVersion: polyarch.io/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 1h
  policy: ${policy}
  images: [{reference: 'reg.test/web:1', platforms: [linux/amd64]}]
${usage}
---
${nodeDoc}---
${deployment('web', replicas)}${extra}`;

/** One line on stderr, starting `polyarch: `. */
const oneLine = (stderr: string): string => {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
};

describe('limits on inputs that expand, checked before work starts (exit 2)', () => {
  it('schedule: replicas: 1000000000 names the file, the object and the field', async () => {
    const r = await inProcess('schedule', write('huge.yaml', `${nodeDoc}---\n${deployment('web', 1_000_000_000)}`), '--images', catalog);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/huge\.yaml: document 2 \(Deployment web\): spec\.replicas: at most 150000/);
  });

  it('schedule: many workloads under the per-object limit but over the total', async () => {
    const r = await inProcess('schedule', write('many.yaml', `${nodeDoc}---\n${deployment('a', 100_000)}---\n${deployment('b', 100_000)}`), '--images', catalog);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe("polyarch: 200000 pods in all, over the limit of 150000 (Kubernetes' tested maximum per cluster)");
  });

  it('simulate: replicas: 100000000, and a scale event past the limit', async () => {
    const big = await inProcess('simulate', '--scenario', write('big.yaml', scenario('{interval: 5m}', '', 100_000_000)));
    expect(big.code).toBe(2);
    expect(oneLine(big.stderr)).toMatch(/document 3 \(Deployment web\): spec\.replicas: at most 150000/);
    // web scaled to 149999 at minute 10, api's 2 pods beside it.
    const scaled = await inProcess('simulate', '--scenario', write('scaled.yaml', scenario('{interval: 5m}\n  events: [{at: 10m, type: scale, workload: web, replicas: 149999}]', `---\n${deployment('api', 2)}`)));
    expect(scaled.code).toBe(2);
    expect(scaled.stderr).toMatch(/150001 pods in all, over the limit of 150000/);
  });

  it('simulate: interval: 0s (the autoscaler would never run) and a window of 1 are usage errors', async () => {
    const zero = await inProcess('simulate', '--scenario', write('zero.yaml', scenario('{interval: 0s}')));
    expect(zero.code).toBe(2);
    expect(oneLine(zero.stderr)).toMatch(/spec\.policy\.interval: between 1 and 1440 minutes/);
    const one = await inProcess('simulate', '--scenario', write('one.yaml', scenario('{window: 1m}')));
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/spec\.policy\.window: between 2 and 1440 minutes/);
  });

  it('simulate: trace timestamps of -99999999999999, and a gap that would expand to years, are errors before anything is allocated', async () => {
    const usage = (file: string): string => `  usage: [{workload: web, trace: {file: ${file}, series: a}, peak: {cpu: 1, memory: 1Gi}}]`;
    write('neg.csv', 'timestamp,id,cpu,mem,net,disk\n-99999999999999,a,0.1,0.1,0.1,0.1\n60,a,0.1,0.1,0.1,0.1\n');
    const neg = await inProcess('simulate', '--scenario', write('neg.yaml', scenario('{interval: 5m}', '', 2, usage('neg.csv'))));
    expect(neg.code).toBe(2);
    expect(oneLine(neg.stderr)).toMatch(/neg\.csv: line 2: timestamp: a Unix time in seconds, not before 1970/);
    write('far.csv', 'timestamp,id,cpu,mem,net,disk\n0,a,0.1,0.1,0.1,0.1\n253402300799,a,0.1,0.1,0.1,0.1\n');
    const far = await inProcess('simulate', '--scenario', write('far.yaml', scenario('{interval: 5m}', '', 2, usage('far.csv'))));
    expect(far.code).toBe(2);
    expect(oneLine(far.stderr)).toMatch(/far\.csv: series a: gap of 4223371679 minutes after 0 \(at most 60 are held\)/);
  });
});

describe('messages', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');

  it('a YAML alias bomb is refused with the file name, not "internal error" (schedule, simulate, --images)', async () => {
    const file = write('bomb.yaml', `${bomb}\n`);
    const s = await inProcess('schedule', file, '--images', catalog);
    expect(s.code).not.toBe(0);
    expect(oneLine(s.stderr)).toMatch(/^polyarch: .*bomb\.yaml: document 1: YAML: Excessive alias count/);
    const sim = await inProcess('simulate', '--scenario', file);
    expect(sim.code).toBe(2);
    expect(oneLine(sim.stderr)).toMatch(/bomb\.yaml: document 1: YAML: Excessive alias count/);
    const cat = await inProcess('schedule', write('ok.yaml', nodeDoc), '--images', file);
    expect(cat.code).not.toBe(0);
    expect(oneLine(cat.stderr)).toMatch(/bomb\.yaml: document 1: YAML: Excessive alias count/);
  });

  it('forecast prints one summary line for all the lines it skipped, absurd timestamps among them', async () => {
    const rows = ['timestamp,id,cpu,mem,net,disk', '-99999999999999,a,0.1,0.1,0.1,0.1'];
    for (let i = 0; i < 50; i++) rows.push(`${i * 60},a,x,0.1,0.1,0.1`);
    rows.push('3000,a,0.2,0.1,0.1,0.1', '99999999999999999,a,0.1,0.1,0.1,0.1');
    const r = await inProcess('forecast', '--input', write('skips.csv', `${rows.join('\n')}\n`), '--window', '2', '--horizon', '1');
    expect(r.code).toBe(0);
    expect(oneLine(r.stderr)).toBe(`polyarch: ${join(tmp, 'skips.csv')}: 52 corrupt line(s) skipped (first: line 2: timestamp -99999999999999 is outside 1970-01-01 .. 9999-12-31)`);
  });
});

describe('contracts', () => {
  it('forecast --output json carries full precision; the table rounds', async () => {
    const rows = ['timestamp,id,cpu,mem,net,disk'];
    for (let i = 0; i < 30; i++) rows.push(`${i * 60},a,${(0.1 + ((i * 7) % 11) / 33).toFixed(9)},0.123456789,0.1,0.1`);
    const file = write('precise.csv', `${rows.join('\n')}\n`);
    const json = await inProcess('forecast', '--input', file, '--window', '3', '--horizon', '1', '--output', 'json');
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { series: { metric: string; next: number }[]; evaluation: { dma: { cpu: { mae: number } } } };
    const mem = out.series.find((s) => s.metric === 'mem')!;
    expect(mem.next).toBeCloseTo(0.123456789, 7); // not 0.1235
    const decimals = (x: number): number => (String(x).split('.')[1] ?? '').length;
    expect(decimals(out.evaluation.dma.cpu.mae)).toBeGreaterThan(4);
    const table = await inProcess('forecast', '--input', file, '--window', '3', '--horizon', '1');
    expect(table.stdout).toMatch(/^a\s+mem\s+30\s+0\.1235$/m);
  });
});

describe('docs/placement.md', () => {
  it('its example command works as written (the glob also takes the catalog)', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'placement.md'), 'utf8');
    const command = /^\$ polyarch (schedule .*)$/m.exec(doc)?.[1];
    expect(command).toBeDefined();
    // The shell's expansion of the glob, in its sorted order.
    const args = (command ?? '').split(/\s+/).flatMap((a) => {
      const m = /^(.*)\/\*\.yaml$/.exec(a);
      return m?.[1] ? readdirSync(join(ROOT, m[1])).filter((f) => f.endsWith('.yaml')).sort().map((f) => `${m[1]}/${f}`) : [a];
    });
    expect(args).toContain('examples/placement/images.yaml');
    const r = await polyarch(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pod shop\/huge \(priority 0\)\n\s+unschedulable\n\s+reason: 0\/6 nodes are available: 6 Insufficient cpu\./);
  });
});
