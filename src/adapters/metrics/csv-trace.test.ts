import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readTrace, readTraceFile, type TraceIssue, type TraceSample } from './csv-trace.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

async function read(text: string, opts: Parameters<typeof readTrace>[2] = {}) {
  const samples: TraceSample[] = [];
  const seen: TraceIssue[] = [];
  const r = await readTrace(Readable.from([text]), (s) => samples.push(s), { ...opts, onIssue: (i) => seen.push(i) });
  return { r, samples, seen };
}

describe('readTrace: generic format', () => {
  it('reads fractions, seconds and ISO 8601, any column order, extra columns ignored', async () => {
    const { r, samples } = await read('id,extra,timestamp,cpu,mem,net,disk\nweb,x,60,0.5,0.25,0.1,0\nweb,y,2024-01-01T00:01:00Z,0.75,,0.2,0.1\n');
    expect(r).toMatchObject({ ok: true, value: { format: 'generic', units: 'fraction', lines: 3, samples: 2, corrupt: 0, missing: 1 } });
    expect(samples[0]).toEqual({ line: 2, id: 'web', tMs: 60_000, values: { cpu: 0.5, mem: 0.25, net: 0.1, disk: 0 } });
    expect(samples[1]).toEqual({ line: 3, id: 'web', tMs: Date.UTC(2024, 0, 1, 0, 1), values: { cpu: 0.75, net: 0.2, disk: 0.1 } });
  });

  it('detects percents from the values and divides them by 100', async () => {
    const { r, samples } = await read('timestamp,id,cpu,mem,net,disk\n0,a,50,20,0.5,0\n60,a,70,20,1,0\n');
    expect(r).toMatchObject({ ok: true, value: { units: 'percent' } });
    expect(samples.map((s) => s.values.cpu)).toEqual([0.5, 0.7]);
    expect(samples[0]!.values.net).toBe(0.005);
  });

  it('reports corrupt lines with their line number, skips and counts them', async () => {
    const text = [
      'timestamp,id,cpu,mem,net,disk',
      '0,a,0.1,0.1,0.1,0.1',
      '60,a,abc,0.1,0.1,0.1', // 3: not a number
      '120,a,0.1', // 4: too few fields
      'yesterday,a,0.1,0.1,0.1,0.1', // 5: bad timestamp
      '180,,0.1,0.1,0.1,0.1', // 6: empty id
      '240,a,1.5,0.1,0.1,0.1', // 7: above 1 in a fraction file (forced)
      '300,a,"0.2,0.1,0.1,0.1', // 8: stray quote
      '360,"a",0.3,0.1,0.1,0.1',
    ].join('\n');
    const { r, samples, seen } = await read(text, { units: 'fraction' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(seen.map((i) => i.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(seen[0]!.message).toMatch(/cpu 'abc' is not a number/);
    expect(seen[1]!.message).toMatch(/3 field\(s\), expected at least 6/);
    expect(seen[2]!.message).toMatch(/timestamp 'yesterday'/);
    expect(seen[4]!.message).toMatch(/above 1/);
    expect(seen[5]!.message).toMatch(/cpu '"0.2' is not a number/);
    expect(r.value.corrupt).toBe(6);
    expect(samples.map((s) => [s.line, s.id])).toEqual([[2, 'a'], [9, 'a']]);
    expect(r.value.issues).toEqual(seen);
  });

  it('a missing column is a clear error naming it', async () => {
    const { r } = await read('timestamp,id,cpu,mem,net\n0,a,0.1,0.1,0.1\n');
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/^line 1: missing column disk \(the header must name timestamp,id,cpu,mem,net,disk\)/) });
  });

  it('an empty file and an unknown format are errors', async () => {
    expect((await read('')).r).toEqual({ ok: false, error: 'empty file: no header and no samples' });
    expect((await read('\n\n')).r).toEqual({ ok: false, error: 'empty file: no header and no samples' });
    expect((await read('1,2,3\n')).r).toMatchObject({ ok: false, error: expect.stringMatching(/unknown format/) });
  });

  it('a missing file is an error value', async () => {
    expect(await readTraceFile('/nonexistent/trace.csv', () => {})).toEqual({ ok: false, error: 'no such file: /nonexistent/trace.csv' });
  });

  it('reads the bundled Bitbrains sample (real data)', async () => {
    const ids = new Set<string>();
    let n = 0;
    const r = await readTraceFile(fixture('usage-bitbrains-5vm-head3000.csv'), (s) => {
      ids.add(s.id);
      n++;
      expect(s.values.cpu).toBeGreaterThanOrEqual(0);
      expect(s.values.cpu).toBeLessThanOrEqual(1);
    });
    expect(r).toMatchObject({ ok: true, value: { format: 'generic', units: 'fraction', samples: 3000, corrupt: 0, lines: 3001 } });
    expect(n).toBe(3000);
    expect([...ids].sort()).toEqual(['vm-17', 'vm-256', 'vm-303', 'vm-401']); // vm-142 starts later
  });
});

describe('readTrace: Alibaba container_usage.csv', () => {
  it('reads the headerless format: net = max(net_in, net_out), percents / 100, empty fields missing', async () => {
    const samples: TraceSample[] = [];
    const r = await readTraceFile(fixture('alibaba-container-usage-format.csv'), (s) => samples.push(s), { units: 'fraction' }); // ignored: Alibaba is percent
    expect(r).toMatchObject({ ok: true, value: { format: 'alibaba', units: 'percent', samples: 100, corrupt: 0 } });
    expect(samples[0]).toEqual({ line: 1, id: 'c_10', tMs: 39_600_000, values: { cpu: 0.4, mem: 0.6, net: 0.05, disk: 0.01 } });
    // c_11 at 39900 has no net_in (net_out 5): net is net_out alone; c_10 then has 10 and 5.
    expect(samples.find((s) => s.id === 'c_11' && s.tMs === 39_900_000)?.values.net).toBe(0.05);
    expect(samples.find((s) => s.id === 'c_10' && s.tMs === 39_900_000)?.values.net).toBe(0.1);
  });

  it('rejects out-of-range percents line by line', async () => {
    const { r, seen } = await read('c_1,m_1,0,50,60,,,,1,2,3\nc_1,m_1,10,150,60,,,,1,2,3\nc_1,m_1,20,-5,60,,,,1,2,3\n');
    expect(r).toMatchObject({ ok: true, value: { samples: 1, corrupt: 2 } });
    expect(seen.map((i) => [i.line, i.message])).toEqual([[2, 'cpu_util_percent 150 is above 100%'], [3, 'cpu_util_percent -5 is negative']]);
  });
});
