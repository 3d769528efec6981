/**
 * Parsers for the kernel's cgroup v1/v2 and /proc files, exactly as the kernel writes them
 * (Documentation/admin-guide/cgroup-v2.rst "Interface Files", cgroup-v1/memory.rst,
 * blkio-controller.rst, proc(5) for net/dev). Pure: they take the file's text and return
 * a value or an error saying what is wrong (the caller adds the file's path).
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/**
 * Counters above this are the kernel's "no limit" (v1 prints PAGE_COUNTER_MAX * page
 * size, 9223372036854771712; cfs quota prints -1; v2 prints "max").
 */
export const UNLIMITED_THRESHOLD = 2 ** 62;

const INTEGER = /^\d+$/;

/** A non-negative decimal integer (JS number: exact below 2^53, close enough above). */
function parseCount(token: string, what: string): Parsed<number> {
  if (!INTEGER.test(token)) return fail(`${what}: expected a non-negative integer, got ${JSON.stringify(token.slice(0, 40))}`);
  return ok(Number(token));
}

/** A file holding one integer: memory.current, memory.peak, cpuacct.usage, memory.usage_in_bytes. */
export function parseSingleValue(text: string, what = 'value'): Parsed<number> {
  return parseCount(text.trim(), what);
}

/** memory.max, memory.limit_in_bytes: bytes, or undefined for "no limit". */
export function parseMemoryLimit(text: string): Parsed<number | undefined> {
  const t = text.trim();
  if (t === 'max') return ok(undefined);
  const n = parseCount(t, 'memory limit');
  if (!n.ok) return n;
  return ok(n.value >= UNLIMITED_THRESHOLD ? undefined : n.value);
}

/**
 * Flat keyed files ("key value" per line): cpu.stat, memory.stat (v1 and v2).
 * Non-numeric values are an error; duplicate keys keep the last (the kernel never repeats).
 */
export function parseFlatKeyed(text: string): Parsed<Map<string, number>> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const sp = line.indexOf(' ');
    if (sp <= 0) return fail(`line ${i + 1}: expected "key value", got ${JSON.stringify(line.slice(0, 60))}`);
    const key = line.slice(0, sp);
    const v = parseCount(line.slice(sp + 1).trim(), `line ${i + 1} (${key})`);
    if (!v.ok) return v;
    out.set(key, v.value);
  }
  return ok(out);
}

/** Reads a key that must be in a flat keyed file. */
export function requireKey(map: Map<string, number>, key: string): Parsed<number> {
  const v = map.get(key);
  return v === undefined ? fail(`missing key "${key}"`) : ok(v);
}

export interface CpuStatV2 {
  readonly usageUsec: number;
  readonly userUsec: number;
  readonly systemUsec: number;
  /** Present when the cpu controller is enabled for the cgroup. */
  readonly nrPeriods?: number;
  readonly nrThrottled?: number;
  readonly throttledUsec?: number;
}

/** cgroup v2 cpu.stat ("usage_usec 1156398\nuser_usec ...\n"). */
export function parseCpuStatV2(text: string): Parsed<CpuStatV2> {
  const m = parseFlatKeyed(text);
  if (!m.ok) return m;
  const usage = requireKey(m.value, 'usage_usec');
  if (!usage.ok) return usage;
  return ok({
    usageUsec: usage.value,
    userUsec: m.value.get('user_usec') ?? 0,
    systemUsec: m.value.get('system_usec') ?? 0,
    ...(m.value.has('nr_periods') ? { nrPeriods: m.value.get('nr_periods')! } : {}),
    ...(m.value.has('nr_throttled') ? { nrThrottled: m.value.get('nr_throttled')! } : {}),
    ...(m.value.has('throttled_usec') ? { throttledUsec: m.value.get('throttled_usec')! } : {}),
  });
}

/** Memory figures the probe needs from memory.stat, in bytes. */
export interface MemoryStat {
  /** Anonymous memory (v2 `anon`, v1 `total_rss`). */
  readonly anon: number;
  /** Page cache (v2 `file`, v1 `total_cache`). */
  readonly file: number;
  /** Reclaimable cache not recently used: the part of usage the working set leaves out. */
  readonly inactiveFile: number;
  readonly activeFile: number;
}

/**
 * cgroup v2 memory.stat. The working set (what kubelet and metrics-server report, and what
 * is close to OOM) is memory.current minus inactive_file.
 */
export function parseMemoryStatV2(text: string): Parsed<MemoryStat> {
  const m = parseFlatKeyed(text);
  if (!m.ok) return m;
  for (const key of ['anon', 'file', 'inactive_file', 'active_file']) {
    const v = requireKey(m.value, key);
    if (!v.ok) return v;
  }
  return ok({ anon: m.value.get('anon')!, file: m.value.get('file')!, inactiveFile: m.value.get('inactive_file')!, activeFile: m.value.get('active_file')! });
}

/**
 * cgroup v1 memory.stat: the `total_*` keys cover the hierarchy below the cgroup (a pod's
 * cgroup holds its containers), like v2's figures do.
 */
export function parseMemoryStatV1(text: string): Parsed<MemoryStat> {
  const m = parseFlatKeyed(text);
  if (!m.ok) return m;
  for (const key of ['total_rss', 'total_cache', 'total_inactive_file', 'total_active_file']) {
    const v = requireKey(m.value, key);
    if (!v.ok) return v;
  }
  return ok({
    anon: m.value.get('total_rss')!,
    file: m.value.get('total_cache')!,
    inactiveFile: m.value.get('total_inactive_file')!,
    activeFile: m.value.get('total_active_file')!,
  });
}

export interface IoBytes {
  readonly readBytes: number;
  readonly writeBytes: number;
}

/**
 * cgroup v2 io.stat, nested keyed: "8:0 rbytes=90112 wbytes=0 rios=3 wios=0 dbytes=0 dios=0"
 * per device; summed over devices. An empty file (no I/O yet) is zero.
 */
export function parseIoStatV2(text: string): Parsed<IoBytes> {
  let readBytes = 0;
  let writeBytes = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (!/^\d+:\d+$/.test(fields[0]!)) return fail(`line ${i + 1}: expected "MAJ:MIN key=value...", got ${JSON.stringify(line.slice(0, 60))}`);
    for (let k = 1; k < fields.length; k++) {
      const f = fields[k]!;
      const eq = f.indexOf('=');
      if (eq <= 0) return fail(`line ${i + 1}: expected key=value, got ${JSON.stringify(f.slice(0, 40))}`);
      const key = f.slice(0, eq);
      if (key !== 'rbytes' && key !== 'wbytes') continue;
      const v = parseCount(f.slice(eq + 1), `line ${i + 1} (${key})`);
      if (!v.ok) return v;
      if (key === 'rbytes') readBytes += v.value;
      else writeBytes += v.value;
    }
  }
  return ok({ readBytes, writeBytes });
}

/**
 * cgroup v1 blkio.throttle.io_service_bytes: "8:0 Read 1234" ... "8:0 Total 1234" per
 * device, then a final "Total N". Read and Write are summed over devices.
 */
export function parseBlkioServiceBytes(text: string): Parsed<IoBytes> {
  let readBytes = 0;
  let writeBytes = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length === 2 && fields[0] === 'Total') {
      const v = parseCount(fields[1]!, `line ${i + 1} (Total)`);
      if (!v.ok) return v;
      continue;
    }
    if (fields.length !== 3 || !/^\d+:\d+$/.test(fields[0]!)) return fail(`line ${i + 1}: expected "MAJ:MIN Op bytes", got ${JSON.stringify(line.slice(0, 60))}`);
    const v = parseCount(fields[2]!, `line ${i + 1} (${fields[1]})`);
    if (!v.ok) return v;
    if (fields[1] === 'Read') readBytes += v.value;
    else if (fields[1] === 'Write') writeBytes += v.value;
  }
  return ok({ readBytes, writeBytes });
}

export interface PressureLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Stalled time, microseconds, since the cgroup was created. */
  readonly total: number;
}

export interface Pressure {
  readonly some: PressureLine;
  /** Absent in the system-wide cpu.pressure of old kernels. */
  readonly full?: PressureLine;
}

/** PSI files (memory.pressure): "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". */
export function parsePressure(text: string): Parsed<Pressure> {
  const lines: Partial<Record<'some' | 'full', PressureLine>> = {};
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.trim();
    if (row === '') continue;
    const fields = row.split(/\s+/);
    const kind = fields[0];
    if (kind !== 'some' && kind !== 'full') return fail(`line ${i + 1}: expected "some" or "full", got ${JSON.stringify(row.slice(0, 60))}`);
    const vals: Record<string, number> = {};
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      const key = f.slice(0, eq);
      const num = Number(f.slice(eq + 1));
      if (eq <= 0 || !Number.isFinite(num) || num < 0) return fail(`line ${i + 1}: bad field ${JSON.stringify(f.slice(0, 40))}`);
      vals[key] = num;
    }
    for (const key of ['avg10', 'avg60', 'avg300', 'total']) {
      if (vals[key] === undefined) return fail(`line ${i + 1}: missing ${key}`);
    }
    lines[kind] = { avg10: vals['avg10']!, avg60: vals['avg60']!, avg300: vals['avg300']!, total: vals['total']! };
  }
  if (!lines.some) return fail('missing the "some" line');
  return ok({ some: lines.some, ...(lines.full ? { full: lines.full } : {}) });
}

/** cgroup v2 cpu.max: "max 100000" or "50000 100000"; the limit in cores, undefined if none. */
export function parseCpuMax(text: string): Parsed<number | undefined> {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 2) return fail(`expected "QUOTA PERIOD", got ${JSON.stringify(text.trim().slice(0, 40))}`);
  const period = parseCount(fields[1]!, 'period');
  if (!period.ok) return period;
  if (period.value === 0) return fail('period is 0');
  if (fields[0] === 'max') return ok(undefined);
  const quota = parseCount(fields[0]!, 'quota');
  if (!quota.ok) return quota;
  return ok(quota.value / period.value);
}

/** cgroup v1 cpu.cfs_quota_us (-1 = none) with cpu.cfs_period_us: the limit in cores. */
export function parseCfsQuota(quotaText: string, periodText: string): Parsed<number | undefined> {
  const q = quotaText.trim();
  if (q === '-1') return ok(undefined);
  const quota = parseCount(q, 'cpu.cfs_quota_us');
  if (!quota.ok) return quota;
  const period = parseCount(periodText.trim(), 'cpu.cfs_period_us');
  if (!period.ok) return period;
  if (period.value === 0) return fail('cpu.cfs_period_us is 0');
  return ok(quota.value / period.value);
}

/** Bytes of one network namespace, summed over its interfaces except loopback. */
export interface NetBytes {
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly interfaces: readonly string[];
}

/**
 * /proc/<pid>/net/dev: two header lines, then
 * "  eth0: 641312812   19924 0 0 0 0 0 0  2174071 15016 0 0 0 0 0 0" (8 receive, 8 transmit
 * columns). Loopback is left out: traffic between a pod's own containers is not network use.
 */
export function parseNetDev(text: string): Parsed<NetBytes> {
  const rows = text.split('\n');
  if (rows.length < 2 || !rows[0]!.includes('Receive') || !rows[1]!.includes('bytes')) return fail('missing the two header lines ("Inter-|   Receive ..." / " face |bytes ...")');
  let rxBytes = 0;
  let txBytes = 0;
  const interfaces: string[] = [];
  for (let i = 2; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.trim() === '') continue;
    const colon = row.indexOf(':');
    if (colon < 0) return fail(`line ${i + 1}: expected "iface: counters", got ${JSON.stringify(row.slice(0, 60))}`);
    const name = row.slice(0, colon).trim();
    const cols = row.slice(colon + 1).trim().split(/\s+/);
    if (cols.length < 16) return fail(`line ${i + 1} (${name}): expected 16 counters, got ${cols.length}`);
    if (name === 'lo') continue;
    const rx = parseCount(cols[0]!, `line ${i + 1} (${name} receive bytes)`);
    if (!rx.ok) return rx;
    const tx = parseCount(cols[8]!, `line ${i + 1} (${name} transmit bytes)`);
    if (!tx.ok) return tx;
    rxBytes += rx.value;
    txBytes += tx.value;
    interfaces.push(name);
  }
  return ok({ rxBytes, txBytes, interfaces });
}

/** cgroup.procs: one pid per line (possibly empty: a cgroup whose processes all exited). */
export function parsePids(text: string): Parsed<number[]> {
  const pids: number[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const v = parseCount(t, 'pid');
    if (!v.ok) return v;
    pids.push(v.value);
  }
  return ok(pids);
}

/** /proc/meminfo MemTotal, in bytes (the node's memory when a container has no limit or request). */
export function parseMemTotal(text: string): Parsed<number> {
  const m = /^MemTotal:\s+(\d+)\s+kB$/m.exec(text);
  if (!m) return fail('no "MemTotal: N kB" line');
  return ok(Number(m[1]) * 1024);
}
