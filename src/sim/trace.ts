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
/** 9999-12-31T23:59:59Z in Unix seconds: later (or negative) timestamps are errors, not dates to expand a series to. */
const MAX_TIMESTAMP_S = 253_402_300_799;
const row = z.object({
  timestamp: z.coerce.number().int().min(0, 'a Unix time in seconds, not before 1970').max(MAX_TIMESTAMP_S, 'a Unix time in seconds, not after 9999-12-31'),
  id: z.string().min(1),
  cpu: unit,
  mem: unit,
  net: unit,
  disk: unit,
});

/** Longest gap filled by holding the last value; a longer gap is an error, not a guess. */
const MAX_HOLD_MINUTES = 60;
/** Limits on what a trace expands to (four Float32 values per minute): a year per series, 10 million minutes (160 MB) in all. */
const MAX_SERIES_MINUTES = 366 * 1440;
const MAX_TOTAL_MINUTES = 10_000_000;

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
  let totalMinutes = 0;
  for (const [id, samples] of bySeries) {
    samples.sort((a, b) => a.timestamp - b.timestamp);
    const first = samples[0]!.timestamp;
    const last = samples[samples.length - 1]!.timestamp;
    // Gaps are checked before the series is allocated: its length is bounded by rows x MAX_HOLD_MINUTES.
    for (let k = 0; k + 1 < samples.length; k++) {
      const gap = Math.floor((samples[k + 1]!.timestamp - first) / 60) - Math.floor((samples[k]!.timestamp - first) / 60);
      if (gap > MAX_HOLD_MINUTES) return { ok: false, error: `${source}: series ${id}: gap of ${gap} minutes after ${samples[k]!.timestamp} (at most ${MAX_HOLD_MINUTES} are held)` };
    }
    const minutes = Math.floor((last - first) / 60) + 1;
    if (minutes > MAX_SERIES_MINUTES) return { ok: false, error: `${source}: series ${id}: spans ${minutes} minutes (at most ${MAX_SERIES_MINUTES}, a year)` };
    totalMinutes += minutes;
    if (totalMinutes > MAX_TOTAL_MINUTES) return { ok: false, error: `${source}: the series span ${totalMinutes}+ minutes in all (at most ${MAX_TOTAL_MINUTES})` };
    const s: UsageSeries = { id, cpu: new Float32Array(minutes), mem: new Float32Array(minutes), net: new Float32Array(minutes), disk: new Float32Array(minutes) };
    for (let k = 0; k < samples.length; k++) {
      const cur = samples[k]!;
      const from = Math.floor((cur.timestamp - first) / 60);
      const to = k + 1 < samples.length ? Math.floor((samples[k + 1]!.timestamp - first) / 60) : minutes;
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
