import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  parseBlkioServiceBytes,
  parseCfsQuota,
  parseCpuMax,
  parseCpuStatV2,
  parseFlatKeyed,
  parseIoStatV2,
  parseMemoryLimit,
  parseMemoryStatV1,
  parseMemoryStatV2,
  parseMemTotal,
  parseNetDev,
  parsePids,
  parsePressure,
  parseSingleValue,
} from './parse.ts';

const value = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

// Texts as a 6.18 kernel printed them on this machine (cgroup v1 memory, v2 unified root).
const V1_MEMORY_STAT = `cache 16384
rss 216752128
rss_huge 0
shmem 0
mapped_file 0
dirty 0
writeback 0
workingset_refault_anon 0
workingset_refault_file 4
swap 0
swapcached 0
pgpgin 53252
pgpgout 330
pgfault 53882
pgmajfault 0
inactive_anon 216748032
active_anon 4096
inactive_file 0
active_file 16384
unevictable 0
hierarchical_memory_limit 9223372036854771712
hierarchical_memsw_limit 9223372036854771712
total_cache 1400659968
total_rss 139440128
total_rss_huge 0
total_shmem 9166848
total_mapped_file 54755328
total_dirty 1798144
total_writeback 0
total_workingset_refault_anon 0
total_workingset_refault_file 192901
total_swap 0
total_swapcached 0
total_pgpgin 9280415
total_pgpgout 8985255
total_pgfault 10596800
total_pgmajfault 1206
total_inactive_anon 131665920
total_active_anon 1622016
total_inactive_file 958255104
total_active_file 433238016
total_unevictable 15282176
`;

const V2_CPU_STAT_NO_CONTROLLER = 'usage_usec 742968111\nuser_usec 591595388\nsystem_usec 151372723\nnice_usec 0\n';
const V2_CPU_STAT = `usage_usec 80436
user_usec 53624
system_usec 26812
core_sched.force_idle_usec 0
nr_periods 12
nr_throttled 3
throttled_usec 4051
nr_bursts 0
burst_usec 0
`;

describe('cgroup v2 files', () => {
  it('cpu.stat: usage_usec with or without the cpu controller (throttling keys only with it)', () => {
    expect(value(parseCpuStatV2(V2_CPU_STAT_NO_CONTROLLER))).toEqual({ usageUsec: 742968111, userUsec: 591595388, systemUsec: 151372723 });
    expect(value(parseCpuStatV2(V2_CPU_STAT))).toMatchObject({ usageUsec: 80436, nrPeriods: 12, nrThrottled: 3, throttledUsec: 4051 });
  });

  it('cpu.stat without usage_usec, or with a non-number, is an error naming the key or line', () => {
    expect(parseCpuStatV2('user_usec 1\n')).toEqual({ ok: false, error: 'missing key "usage_usec"' });
    const bad = parseCpuStatV2('usage_usec 12x\n');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toContain('line 1 (usage_usec)');
  });

  it('memory.current, memory.peak: one integer; memory.max: bytes or "max"', () => {
    expect(value(parseSingleValue('104857600\n'))).toBe(104857600);
    expect(parseSingleValue('', 'memory.current').ok).toBe(false);
    expect(value(parseMemoryLimit('max\n'))).toBeUndefined();
    expect(value(parseMemoryLimit('268435456\n'))).toBe(268435456);
  });

  it('memory.stat (v2): anon, file, inactive_file, active_file', () => {
    const text = 'anon 1511424\nfile 2670592\nkernel 495616\ninactive_anon 1503232\nactive_anon 8192\ninactive_file 1007616\nactive_file 1662976\nunevictable 0\n';
    expect(value(parseMemoryStatV2(text))).toEqual({ anon: 1511424, file: 2670592, inactiveFile: 1007616, activeFile: 1662976 });
    expect(parseMemoryStatV2('anon 1\nfile 2\n')).toEqual({ ok: false, error: 'missing key "inactive_file"' });
  });

  it('io.stat: rbytes and wbytes summed over devices, other keys (iocost ones too) ignored; empty is zero', () => {
    const text = '259:0 rbytes=90112 wbytes=4096 rios=3 wios=1 dbytes=0 dios=0\n8:16 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=3\n';
    expect(value(parseIoStatV2(text))).toEqual({ readBytes: 90122, writeBytes: 4116 });
    expect(value(parseIoStatV2(''))).toEqual({ readBytes: 0, writeBytes: 0 });
    expect(parseIoStatV2('sda rbytes=1\n').ok).toBe(false);
  });

  it('memory.pressure: some and full lines', () => {
    const p = value(parsePressure('some avg10=1.53 avg60=0.20 avg300=0.04 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n'));
    expect(p.some).toEqual({ avg10: 1.53, avg60: 0.2, avg300: 0.04, total: 123456 });
    expect(p.full?.total).toBe(0);
    expect(parsePressure('full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n')).toEqual({ ok: false, error: 'missing the "some" line' });
    expect(parsePressure('some avg10=0.00 avg60=0.00 total=0\n')).toEqual({ ok: false, error: 'line 1: missing avg300' });
  });

  it('cpu.max: quota/period in cores, "max" for none', () => {
    expect(value(parseCpuMax('max 100000\n'))).toBeUndefined();
    expect(value(parseCpuMax('150000 100000\n'))).toBe(1.5);
    expect(parseCpuMax('150000\n').ok).toBe(false);
  });
});

describe('cgroup v1 files', () => {
  it('memory.stat (v1): the total_* keys, which include child cgroups', () => {
    expect(value(parseMemoryStatV1(V1_MEMORY_STAT))).toEqual({ anon: 139440128, file: 1400659968, inactiveFile: 958255104, activeFile: 433238016 });
    expect(parseMemoryStatV1('cache 1\nrss 2\n')).toEqual({ ok: false, error: 'missing key "total_rss"' });
  });

  it('memory.limit_in_bytes: the kernel prints PAGE_COUNTER_MAX for no limit', () => {
    expect(value(parseMemoryLimit('9223372036854771712\n'))).toBeUndefined();
    expect(value(parseMemoryLimit('536870912\n'))).toBe(536870912);
  });

  it('cpuacct.usage: nanoseconds as one integer', () => {
    expect(value(parseSingleValue('1156398108\n'))).toBe(1156398108);
  });

  it('blkio.throttle.io_service_bytes: Read and Write per device summed; a bare "Total 0" is zero', () => {
    const text = '8:0 Read 1048576\n8:0 Write 2097152\n8:0 Sync 2097152\n8:0 Async 1048576\n8:0 Discard 0\n8:0 Total 3145728\n253:1 Read 4096\n253:1 Write 0\n253:1 Sync 0\n253:1 Async 4096\n253:1 Discard 0\n253:1 Total 4096\nTotal 3149824\n';
    expect(value(parseBlkioServiceBytes(text))).toEqual({ readBytes: 1052672, writeBytes: 2097152 });
    expect(value(parseBlkioServiceBytes('Total 0\n'))).toEqual({ readBytes: 0, writeBytes: 0 });
    expect(parseBlkioServiceBytes('8:0 Read\n').ok).toBe(false);
  });

  it('cpu.cfs_quota_us -1 is no limit; else quota / period', () => {
    expect(value(parseCfsQuota('-1\n', '100000\n'))).toBeUndefined();
    expect(value(parseCfsQuota('50000\n', '100000\n'))).toBe(0.5);
    expect(parseCfsQuota('50000\n', '0\n').ok).toBe(false);
  });
});

describe('/proc files', () => {
  const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 641312812   19924    0    0    0     0          0         0  2174071   15016    0    0    0     0       0          0
`;

  it('net/dev: receive and transmit bytes of every interface but lo', () => {
    expect(value(parseNetDev(NET_DEV))).toEqual({ rxBytes: 641312812, txBytes: 2174071, interfaces: ['ifb0', 'eth0'] });
  });

  it('net/dev: missing headers or short rows are errors', () => {
    expect(parseNetDev('eth0: 1 2 3\n').ok).toBe(false);
    const short = parseNetDev(NET_DEV + '  eth1: 1 2 3\n');
    expect(short).toEqual({ ok: false, error: 'line 6 (eth1): expected 16 counters, got 3' });
  });

  it('cgroup.procs and meminfo', () => {
    expect(value(parsePids('1101\n1102\n'))).toEqual([1101, 1102]);
    expect(value(parsePids(''))).toEqual([]);
    expect(value(parseMemTotal('MemTotal:        8148412 kB\nMemFree:  1 kB\n'))).toBe(8148412 * 1024);
  });
});

describe('flat keyed files (property)', () => {
  it('any set of keys and counters prints and parses back', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z_.]{1,20}$/), fc.nat()), (dict) => {
        const text = Object.entries(dict).map(([k, v]) => `${k} ${v}\n`).join('');
        const parsed = parseFlatKeyed(text);
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(Object.fromEntries(parsed.value)).toEqual(dict);
      }),
    );
  });
});
