import { describe, expect, it } from 'vitest';
import type { AppUsageSample } from '../../ports/metrics-source.ts';
import { noAutoscalerTelemetry } from '../../ports/scaling-policy.ts';
import { UsageFeeder } from './feeder.ts';

const Mi = 2 ** 20;

describe('UsageFeeder', () => {
  it('counts throttled time as CPU demand and an OOM-killed minute as more memory than it reached (VPA bump)', async () => {
    const samples: AppUsageSample[] = [
      { app: 'ns/a', minuteMs: 0, cpuMilli: 500, memoryBytes: 200 * Mi, net: 0, disk: 0, pods: 1 },
      // Throttled half the minute at 1 core: it wanted 2.
      { app: 'ns/a', minuteMs: 60_000, cpuMilli: 1000, cpuThrottled: 0.5, memoryBytes: 300 * Mi, net: 0, disk: 0, pods: 1 },
      // OOM-killed at 1 GiB (the cgroup shows no more than its limit): max(+20 %, +100 MiB).
      { app: 'ns/a', minuteMs: 120_000, cpuMilli: 100, memoryBytes: 1024 * Mi, net: 0, disk: 0, pods: 1, oomKills: 1, memoryRequestBytes: 512 * Mi },
      // A small one: +100 MiB is the larger bump.
      { app: 'ns/a', minuteMs: 180_000, cpuMilli: 100, memoryBytes: 100 * Mi, net: 0, disk: 0, pods: 1, oomKills: 1, memoryRequestBytes: 64 * Mi },
    ];
    const f = new UsageFeeder({ appUsage: async (since) => samples.filter((s) => s.minuteMs >= since) }, { keepMinutes: 60, forecaster: 'dma', telemetry: noAutoscalerTelemetry });
    await f.observe();
    const w = f.window(['ns/a'])!;
    expect(w.cpu).toEqual([0.5, 2, 0.1, 0.1]);
    expect(w.mem).toEqual([200 * Mi, 300 * Mi, 1.2 * 1024 * Mi, 200 * Mi]);
  });
});
