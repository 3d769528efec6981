/**
 * Reads a usage trace (CSV), streamed, in one of two formats detected from the first line:
 *
 * - generic, with a header naming at least `timestamp,id,cpu,mem,net,disk` (any order,
 *   extra columns ignored): timestamp in Unix seconds (values >= 1e12 are taken as
 *   milliseconds) or ISO 8601; utilisations as fractions in [0,1] or percents in [0,100].
 *   `units: 'auto'` decides from the first `lookahead` records: percent if any value is
 *   above 1.
 * - Alibaba cluster-trace-v2018 container_usage.csv, no header, 11 columns:
 *   container_id,machine_id,time_stamp,cpu_util_percent,mem_util_percent,cpi,mem_gps,mpki,
 *   net_in,net_out,disk_io_percent. net = max(net_in, net_out); percents divided by 100.
 *
 * Empty fields are missing values (the Alibaba trace has many); the rest of the line is
 * kept. A line that cannot be read (bad number, out of range, too few columns, bad quoting)
 * is reported with its line number, skipped and counted. Fields are not quoted (a field in
 * double quotes has them stripped), so a stray quote spoils only its own line. An empty file, a header missing a
 * column, or an unknown format is an error value.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import type { Metric } from '../../core/forecast/window.ts';

export type TraceFormat = 'generic' | 'alibaba';
export type TraceUnits = 'fraction' | 'percent';

export interface TraceSample {
  readonly line: number;
  readonly id: string;
  readonly tMs: number;
  /** Utilisations in [0,1]; a missing value is absent. */
  readonly values: Partial<Record<Metric, number>>;
}

export interface TraceIssue {
  readonly line: number;
  readonly message: string;
}

export interface TraceReadOptions {
  readonly units?: 'auto' | TraceUnits;
  /** Records looked at before deciding units (default 1000). */
  readonly lookahead?: number;
  /** Called for every corrupt line as it is met. */
  readonly onIssue?: (issue: TraceIssue) => void;
  /** Issues kept in the summary (default 20); all are counted. */
  readonly keepIssues?: number;
}

export interface TraceSummary {
  readonly format: TraceFormat;
  readonly units: TraceUnits;
  /** Lines read, header included. */
  readonly lines: number;
  readonly samples: number;
  readonly corrupt: number;
  /** Empty fields among the metrics of the samples read. */
  readonly missing: number;
  readonly issues: readonly TraceIssue[];
}

export type TraceReadResult = { readonly ok: true; readonly value: TraceSummary } | { readonly ok: false; readonly error: string };

export const GENERIC_COLUMNS = ['timestamp', 'id', 'cpu', 'mem', 'net', 'disk'] as const;
export const ALIBABA_COLUMNS = [
  'container_id', 'machine_id', 'time_stamp', 'cpu_util_percent', 'mem_util_percent', 'cpi', 'mem_gps', 'mpki', 'net_in', 'net_out', 'disk_io_percent',
] as const;

const MAX_RECORD_BYTES = 64 * 1024;
/** 9999-12-31T23:59:59Z: a timestamp past it (or before 1970) is a corrupt line, not a date to expand a series to. */
const MAX_TIMESTAMP_MS = 253_402_300_799_000;

class LineError extends Error {}

const unquote = (f: string): string => {
  const t = f.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
};

const isNumeric = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s));

/** Seconds (or ms when >= 1e12) since the epoch, or ISO 8601. */
function parseTimestamp(s: string): number {
  const t = s.trim();
  if (t === '') throw new LineError('empty timestamp');
  if (isNumeric(t)) {
    const x = Number(t);
    const ms = x >= 1e12 ? x : x * 1000;
    if (ms < 0 || ms > MAX_TIMESTAMP_MS) throw new LineError(`timestamp ${t} is outside 1970-01-01 .. 9999-12-31`);
    return ms;
  }
  // ISO 8601 only: a date, then optionally a time (Date.parse alone accepts much more).
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) throw new LineError(`timestamp '${t}' is neither Unix seconds nor ISO 8601`);
  const ms = Date.parse(t);
  if (Number.isFinite(ms) && (ms < 0 || ms > MAX_TIMESTAMP_MS)) throw new LineError(`timestamp '${t}' is outside 1970-01-01 .. 9999-12-31`);
  if (!Number.isFinite(ms)) throw new LineError(`timestamp '${t}' is not a valid date`);
  return ms;
}

interface Layout {
  readonly format: TraceFormat;
  readonly minFields: number;
  readonly cols: { readonly time: number; readonly id: number; readonly cpu: number; readonly mem: number; readonly net: readonly number[]; readonly disk: number };
  readonly header: boolean;
}

type Detection = { readonly ok: true; readonly layout: Layout } | { readonly ok: false; readonly error: string };

function detect(first: readonly string[]): Detection {
  const names = first.map((f) => f.trim().toLowerCase());
  const looksLikeHeader = names.some((n) => n !== '' && !isNumeric(n)) && !(names.length >= 3 && isNumeric(names[2] ?? ''));
  if (looksLikeHeader) {
    if (names.includes('container_id') || names.includes('time_stamp')) {
      const missing = ALIBABA_COLUMNS.filter((c) => ['container_id', 'time_stamp', 'cpu_util_percent', 'mem_util_percent', 'net_in', 'net_out', 'disk_io_percent'].includes(c) && !names.includes(c));
      if (missing.length > 0) return { ok: false, error: `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (Alibaba container_usage needs ${ALIBABA_COLUMNS.join(',')})` };
      const at = (c: string): number => names.indexOf(c);
      return { ok: true, layout: { format: 'alibaba', header: true, minFields: Math.max(...['container_id', 'time_stamp', 'cpu_util_percent', 'mem_util_percent', 'net_in', 'net_out', 'disk_io_percent'].map(at)) + 1, cols: { time: at('time_stamp'), id: at('container_id'), cpu: at('cpu_util_percent'), mem: at('mem_util_percent'), net: [at('net_in'), at('net_out')], disk: at('disk_io_percent') } } };
    }
    const missing = GENERIC_COLUMNS.filter((c) => !names.includes(c));
    if (missing.length > 0) return { ok: false, error: `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the header must name ${GENERIC_COLUMNS.join(',')})` };
    const at = (c: string): number => names.indexOf(c);
    return { ok: true, layout: { format: 'generic', header: true, minFields: Math.max(...GENERIC_COLUMNS.map(at)) + 1, cols: { time: at('timestamp'), id: at('id'), cpu: at('cpu'), mem: at('mem'), net: [at('net')], disk: at('disk') } } };
  }
  if (first.length === ALIBABA_COLUMNS.length && isNumeric(first[2] ?? '')) {
    return { ok: true, layout: { format: 'alibaba', header: false, minFields: ALIBABA_COLUMNS.length, cols: { time: 2, id: 0, cpu: 3, mem: 4, net: [8, 9], disk: 10 } } };
  }
  return { ok: false, error: `unknown format: expected a header naming ${GENERIC_COLUMNS.join(',')}, or Alibaba container_usage.csv (${ALIBABA_COLUMNS.length} columns, no header); the first line has ${first.length} field(s)` };
}

/** Reads a trace from a stream, calling onSample for every sample, in file order. */
export async function readTrace(source: Readable, onSample: (s: TraceSample) => void, opts: TraceReadOptions = {}): Promise<TraceReadResult> {
  const keep = opts.keepIssues ?? 20;
  const lookahead = opts.lookahead ?? 1000;
  const issues: TraceIssue[] = [];
  let corrupt = 0;
  let samples = 0;
  let missing = 0;
  let lines = 0;
  const report = (line: number, message: string): void => {
    corrupt++;
    const issue = { line, message };
    if (issues.length < keep) issues.push(issue);
    opts.onIssue?.(issue);
  };

  const parser = parse({
    relax_column_count: true,
    // Traces are numbers and ids: no quoting. A stray quote then spoils only its own line
    // (a quoted field would swallow the rest of the file); surrounding quotes are stripped.
    quote: false,
    skip_empty_lines: true,
    info: true,
    bom: true,
    max_record_size: MAX_RECORD_BYTES,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined) => {
      const line = typeof (err as { lines?: unknown } | undefined)?.lines === 'number' ? (err as unknown as { lines: number }).lines : lines + 1;
      report(line, `unreadable CSV: ${err?.message ?? 'malformed record'}`);
    },
  });

  let layout: Layout | undefined;
  let units: TraceUnits | undefined = opts.units === 'auto' || opts.units === undefined ? undefined : opts.units;
  const pending: { record: string[]; line: number }[] = [];

  const toValue = (raw: string | undefined, name: string, unit: TraceUnits): number | undefined => {
    const s = (raw ?? '').trim();
    if (s === '') return undefined;
    const x = Number(s);
    if (!Number.isFinite(x)) throw new LineError(`${name} '${s}' is not a number`);
    if (x < 0) throw new LineError(`${name} ${s} is negative`);
    if (unit === 'percent') {
      if (x > 100) throw new LineError(`${name} ${s} is above 100%`);
      return x / 100;
    }
    if (x > 1) throw new LineError(`${name} ${s} is above 1 (read as fractions${opts.units === 'fraction' ? '' : `, decided from the first ${lookahead} records`}; use units percent if it is a percent)`);
    return x;
  };

  const handle = (record: string[], line: number, lay: Layout, unit: TraceUnits): void => {
    try {
      if (record.length < lay.minFields) throw new LineError(`${record.length} field(s), expected at least ${lay.minFields}`);
      const id = (record[lay.cols.id] ?? '').trim();
      if (id === '') throw new LineError('empty id');
      const tMs = parseTimestamp(record[lay.cols.time] ?? '');
      const values: Partial<Record<Metric, number>> = {};
      const put = (m: Metric, v: number | undefined): void => {
        if (v === undefined) missing++;
        else values[m] = v;
      };
      const names = lay.format === 'alibaba' ? ALIBABA_COLUMNS : null;
      const name = (i: number, fallback: string): string => (names ? (names[i] ?? fallback) : fallback);
      const cpu = toValue(record[lay.cols.cpu], name(3, 'cpu'), unit);
      const mem = toValue(record[lay.cols.mem], name(4, 'mem'), unit);
      const nets = lay.cols.net.map((c, k) => toValue(record[c], lay.format === 'alibaba' ? (k === 0 ? 'net_in' : 'net_out') : 'net', unit)).filter((v): v is number => v !== undefined);
      const disk = toValue(record[lay.cols.disk], name(10, 'disk'), unit);
      put('cpu', cpu);
      put('mem', mem);
      put('net', nets.length > 0 ? Math.max(...nets) : undefined);
      put('disk', disk);
      if (cpu === undefined && mem === undefined && nets.length === 0 && disk === undefined) throw new LineError('no metric values');
      samples++;
      onSample({ line, id, tMs, values });
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      report(line, err.message);
    }
  };

  const decideUnits = (): TraceUnits => {
    if (!layout) return 'fraction';
    if (layout.format === 'alibaba') return 'percent';
    const c = layout.cols;
    for (const { record } of pending) {
      for (const i of [c.cpu, c.mem, ...c.net, c.disk]) {
        const x = Number((record[i] ?? '').trim());
        if (Number.isFinite(x) && x > 1) return 'percent';
      }
    }
    return 'fraction';
  };

  const drain = (): void => {
    if (!layout || !units) return;
    for (const p of pending) handle(p.record, p.line, layout, units);
    pending.length = 0;
  };

  try {
    const input = source.pipe(parser);
    source.on('error', (e) => parser.destroy(e));
    for await (const item of input as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { info } = item;
      const record = item.record.map(unquote);
      lines = info.lines;
      if (!layout) {
        const d = detect(record);
        if (!d.ok) return { ok: false, error: `line ${info.lines}: ${d.error}` };
        layout = d.layout;
        if (layout.format === 'alibaba') units = 'percent'; // the format defines it; --units is for generic files
        if (layout.header) continue;
      }
      if (units) {
        handle(record, info.lines, layout, units);
        continue;
      }
      pending.push({ record, line: info.lines });
      if (pending.length >= lookahead) {
        units = decideUnits();
        drain();
      }
    }
  } catch (err) {
    return { ok: false, error: `cannot read the trace: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!layout) return { ok: false, error: 'empty file: no header and no samples' };
  if (!units) {
    units = decideUnits();
    drain();
  }
  return { ok: true, value: { format: layout.format, units, lines, samples, corrupt, missing, issues } };
}

/** Opens and reads a trace file; a missing or unreadable file is an error value. */
export async function readTraceFile(path: string, onSample: (s: TraceSample) => void, opts: TraceReadOptions = {}): Promise<TraceReadResult> {
  const stream = createReadStream(path);
  const opened = await new Promise<{ ok: true } | { ok: false; error: string }>((resolve) => {
    stream.once('open', () => resolve({ ok: true }));
    stream.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code === 'ENOENT' ? `no such file: ${path}` : `cannot open ${path}: ${e.message}` }));
  });
  if (!opened.ok) return opened;
  return readTrace(stream, onSample, opts);
}
