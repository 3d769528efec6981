/**
 * Usage traces in the generic format of /work/shared/data (docs/data.md):
 * `timestamp,id,cpu,mem,net,disk`, timestamps in Unix seconds, utilisations in [0, 1].
 * Samples are turned into one value per minute by holding each sample until the next
 * one (a 5-minute trace step holds each value for five minutes).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';

export interface UsageSeries {
  readonly id: string;
  /** One value per minute from the series' first sample, utilisation in [0, 1]. */
  readonly cpu: Float32Array;
  readonly mem: Float32Array;
  readonly net: Float32Array;
  readonly disk: Float32Array;
}

export type TraceResult = { ok: true; value: Map<string, UsageSeries> } | { ok: false; error: string };

const unit = z.coerce.number().finite().min(0).max(1);
const row = z.object({
  timestamp: z.coerce.number().int().nonnegative(),
  id: z.string().min(1),
  cpu: unit,
  mem: unit,
  net: unit,
  disk: unit,
});

/** Longest gap filled by holding the last value; a longer gap is an error, not a guess. */
const MAX_HOLD_MINUTES = 60;

export function parseTrace(text: string, source: string): TraceResult {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, comment: '#' }) as Record<string, string>[];
  } catch (err) {
    return { ok: false, error: `${source}: not a CSV trace: ${(err as Error).message}` };
  }
  const bySeries = new Map<string, z.infer<typeof row>[]>();
  for (let i = 0; i < records.length; i++) {
    const parsed = row.safeParse(records[i]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, error: `${source}: line ${i + 2}: ${issue?.path.join('.') || 'row'}: ${issue?.message ?? 'invalid'}` };
    }
    let list = bySeries.get(parsed.data.id);
    if (!list) bySeries.set(parsed.data.id, (list = []));
    list.push(parsed.data);
  }
  if (bySeries.size === 0) return { ok: false, error: `${source}: no samples` };
  const out = new Map<string, UsageSeries>();
  for (const [id, samples] of bySeries) {
    samples.sort((a, b) => a.timestamp - b.timestamp);
    const first = samples[0]!.timestamp;
    const last = samples[samples.length - 1]!.timestamp;
    const minutes = Math.floor((last - first) / 60) + 1;
    const s: UsageSeries = { id, cpu: new Float32Array(minutes), mem: new Float32Array(minutes), net: new Float32Array(minutes), disk: new Float32Array(minutes) };
    for (let k = 0; k < samples.length; k++) {
      const cur = samples[k]!;
      const from = Math.floor((cur.timestamp - first) / 60);
      const to = k + 1 < samples.length ? Math.floor((samples[k + 1]!.timestamp - first) / 60) : minutes;
      if (to - from > MAX_HOLD_MINUTES) {
        return { ok: false, error: `${source}: series ${id}: gap of ${to - from} minutes after ${cur.timestamp} (at most ${MAX_HOLD_MINUTES} are held)` };
      }
      for (let m = from; m < to; m++) {
        s.cpu[m] = cur.cpu;
        s.mem[m] = cur.mem;
        s.net[m] = cur.net;
        s.disk[m] = cur.disk;
      }
    }
    out.set(id, s);
  }
  return { ok: true, value: out };
}

export function loadTrace(path: string): TraceResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, error: `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  return parseTrace(text, path);
}
