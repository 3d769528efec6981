// CPU startup boost in the simulator: pods start slower under a smaller CPU request
// (sim/startup-time.ts); polyarch boosts them at creation and takes the boost back once
// Ready, so its time to Ready is shorter than the unboosted baseline's, and no pod keeps
// the boost.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runStrategy } from '../../src/cli/simulate/runner.ts';
import { loadScenario } from '../../src/sim/scenario/load.ts';
import { SimRegistry } from '../../src/sim/registry.ts';
import { startupMinutes } from '../../src/sim/startup-time.ts';

const file = fileURLToPath(new URL('../../examples/startup-boost/scenario.yaml', import.meta.url));

describe('simulate: CPU startup boost', () => {
  it('start-up slows under a smaller request, within [startup, 10 x startup]; fixed without startupCpu', () => {
    expect(startupMinutes(2, 500, 2000)).toBe(8);
    expect(startupMinutes(2, 2000, 2000)).toBe(2);
    expect(startupMinutes(2, 4000, 2000)).toBe(2);
    expect(startupMinutes(2, 10, 2000)).toBe(20);
    expect(startupMinutes(2, 500, undefined)).toBe(2);
  });

  it('polyarch reaches Ready sooner than static requests, and gives every boost back', async () => {
    const r = loadScenario(file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const scenario = r.value;
    const cpuAtEnd: string[] = [];
    const boosted = await runStrategy(scenario, {
      seed: 5, strategy: 'polyarch', checkInvariants: true, registry: new SimRegistry(scenario.images),
      onMinute: (m, w) => {
        if (m !== scenario.durationMinutes - 1) return;
        for (const [, p] of w.cluster.podEntries()) {
          expect(p.metadata.annotations?.['polyarch.io/startup-boost']).toBeUndefined();
          cpuAtEnd.push(String(p.spec.containers[0]?.resources?.requests?.['cpu']));
        }
      },
    });
    const plain = await runStrategy(scenario, { seed: 5, strategy: 'static', checkInvariants: true, registry: new SimRegistry(scenario.images) });
    expect(boosted.timeToReady?.boosted).toBe(6);
    expect(plain.timeToReady?.boosted).toBe(0);
    expect(plain.timeToReady?.meanMinutes).toBe(8);
    expect(boosted.timeToReady?.meanMinutes).toBe(2);
    // Given back: no pod keeps 2 cores (the boosted request); the autoscaler may have resized them since.
    expect(cpuAtEnd.length).toBe(6);
    for (const cpu of cpuAtEnd) expect(cpu).not.toBe('2');
  });
});
