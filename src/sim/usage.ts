/**
 * What each pod uses, minute by minute: a workload's usage source (a replayed trace or a
 * generated pattern), scaled to its peak, with each replica shifted by a few minutes so
 * replicas are alike but not identical (the shift comes from the seed).
 */
import type { Rng } from '../core/rng.ts';
import type { UsageSource } from './scenario/load.ts';

export interface Usage {
  /** millicores */
  cpu: number;
  /** bytes */
  mem: number;
  /** utilisation of the network link and the disk, [0, 1] */
  net: number;
  disk: number;
}

/** Replicas are shifted by up to this many minutes against each other. */
const MAX_SHIFT = 30;

/**
 * A workload's usage, minute by minute (UsageModel.profileOf): a replayed trace as four
 * series; a generated pattern as its load u in [0, 1] alone, each figure derived from it
 * when read (the same single-precision values four series held, in half
 * the memory: a day of 10,000 workloads kept 235 MB in four series).
 */
export type Profile =
  | { readonly kind: 'series'; readonly cpu: Float32Array; readonly mem: Float32Array; readonly net: Float32Array; readonly disk: Float32Array }
  | { readonly kind: 'load'; readonly u: Float64Array; readonly peakCpu: number; readonly peakMem: number };

export class UsageModel {
  private readonly profiles = new Map<string, Profile>();
  private readonly length: number;

  constructor(sources: ReadonlyMap<string, UsageSource>, durationMinutes: number, private readonly rng: Rng) {
    this.length = durationMinutes + MAX_SHIFT + 1;
    for (const [key, src] of sources) this.profiles.set(key, this.build(src, rng.fork(`usage:${key}`)));
  }

  private build(src: UsageSource, rng: Rng): Profile {
    const n = this.length;
    if (src.trace) {
      const p = { kind: 'series' as const, cpu: new Float32Array(n), mem: new Float32Array(n), net: new Float32Array(n), disk: new Float32Array(n) };
      const { series, offset, max } = src.trace;
      const len = series.cpu.length;
      for (let m = 0; m < n; m++) {
        const i = (offset + m) % len;
        p.cpu[m] = (series.cpu[i]! / max.cpu) * src.peakCpuMilli;
        p.mem[m] = (series.mem[i]! / max.mem) * src.peakMemBytes;
        p.net[m] = series.net[i]!;
        p.disk[m] = series.disk[i]!;
      }
      return p;
    }
    const pat = src.pattern!;
    const period = pat.period ?? 1440;
    const p = { kind: 'load' as const, u: new Float64Array(n), peakCpu: src.peakCpuMilli, peakMem: src.peakMemBytes };
    for (let m = 0; m < n; m++) {
      let u = pat.base;
      if (pat.kind === 'diurnal') u += pat.amplitude * (0.5 - 0.5 * Math.cos((2 * Math.PI * m) / period));
      else if (pat.kind === 'spike') u += m % period < Math.max(1, Math.round(period / 10)) ? pat.amplitude : 0;
      else if (pat.kind === 'ramp') u += (pat.amplitude * m) / n;
      if (pat.noise > 0) u += pat.noise * (rng.next() * 2 - 1);
      p.u[m] = Math.min(1, Math.max(0, u));
    }
    return p;
  }

  has(workload: string): boolean {
    return this.profiles.has(workload);
  }

  /** A replica's shift in minutes, stable for a pod name and seed. */
  shiftFor(podName: string): number {
    return this.rng.fork(`shift:${podName}`).int(MAX_SHIFT);
  }

  /**
   * Usage of a pod of `workload` at `minute`; a workload without a source uses half of
   * its requests (cpu) and 60 % (memory), steadily.
   */
  at(workload: string, shift: number, minute: number, out: Usage, requestCpu: number, requestMem: number): Usage {
    return this.fill(this.profiles.get(workload), shift, minute, out, requestCpu, requestMem);
  }

  /** A workload's profile, undefined when it has no source: looked up once per pod, not once per minute. */
  profileOf(workload: string): Profile | undefined {
    return this.profiles.get(workload);
  }

  /** `at` with the profile looked up already. */
  fill(p: Profile | undefined, shift: number, minute: number, out: Usage, requestCpu: number, requestMem: number): Usage {
    if (!p) {
      out.cpu = requestCpu * 0.5;
      out.mem = requestMem * 0.6;
      out.net = 0.05;
      out.disk = 0.02;
      return out;
    }
    const i = Math.min(this.length - 1, Math.max(0, minute + shift));
    if (p.kind === 'series') {
      out.cpu = p.cpu[i]!;
      out.mem = p.mem[i]!;
      out.net = p.net[i]!;
      out.disk = p.disk[i]!;
      return out;
    }
    // In single precision, as the series of a trace (and as these were kept before).
    const u = p.u[i]!;
    out.cpu = Math.fround(u * p.peakCpu);
    // Memory follows load more slowly than CPU: half of it is a resident floor.
    out.mem = Math.fround((0.5 + 0.5 * u) * p.peakMem);
    out.net = Math.fround(u * 0.2);
    out.disk = Math.fround(u * 0.1);
    return out;
  }
}
