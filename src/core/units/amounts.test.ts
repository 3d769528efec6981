import { describe, expect, it } from 'vitest';
import { amountOf, bytesOf, cpuMilli, formatCpu, formatMemory } from './amounts.ts';

describe('amounts', () => {
  it('reads quantities as numbers, rounding up as Kubernetes does, and refuses what is not one', () => {
    expect(cpuMilli('1.5')).toBe(1500);
    expect(cpuMilli('250m')).toBe(250);
    expect(cpuMilli(2)).toBe(2000);
    expect(bytesOf('1Gi')).toBe(2 ** 30);
    expect(bytesOf('1.5k')).toBe(1500);
    expect(amountOf('lots')).toBeUndefined();
    expect(amountOf('lots')).toBeUndefined(); // cached refusal stays a refusal
    expect(cpuMilli(undefined)).toBeUndefined();
  });

  it('writes resize amounts rounded up to millicores and MiB', () => {
    expect(formatCpu(1500.2)).toBe('1501m');
    expect(formatCpu(2000)).toBe('2');
    expect(formatCpu(0)).toBe('1m');
    expect(formatMemory(1.5 * 2 ** 30)).toBe('1536Mi');
    expect(formatMemory(2 ** 31)).toBe('2Gi');
    expect(formatMemory(2 ** 20 + 1)).toBe('2Mi');
  });
});
