// CPU startup boost in the simulator: pods start slower under a smaller CPU request
// (sim/startup-time.ts); polyarch boosts them at creation and takes the boost back once
// Ready, so its time to Ready is shorter than the unboosted baseline's, and no pod keeps
// the boost.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('a boost is never above the CPU free on one node now (as the webhook refreshes it), so a boosted pod still fits', async () => {
    // Two 1500m nodes, two java pods (each boosted to 1500m at minute 0, 500m again once
    // Ready), a third at 20 min: 1000m free on each node then. Capped at the largest
    // node's allocatable (1500m), it would fit nowhere and never start.
    const text = readFileSync(file, 'utf8')
      .replaceAll("cpu: '8', memory: 16Gi", "cpu: 1500m, memory: 16Gi")
      .replace('replicas: 6}', 'replicas: 3}')
      .replace('replicas: 3\n', 'replicas: 2\n');
    const tight = join(mkdtempSync(join(tmpdir(), 'polyarch-boost-')), 'scenario.yaml');
    writeFileSync(tight, text);
    const r = loadScenario(tight);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const scenario = r.value;
    expect(scenario.nodes.map((n) => n.status?.allocatable?.['cpu'])).toEqual(['1500m', '1500m']);
    const boostedCpu = new Map<string, string>();
    const run = await runStrategy(scenario, {
      seed: 5, strategy: 'polyarch', checkInvariants: true, registry: new SimRegistry(scenario.images),
      onMinute: (_m, w) => {
        for (const [key, p] of w.cluster.podEntries()) {
          if (p.metadata.annotations?.['polyarch.io/startup-boost'] && !boostedCpu.has(key)) boostedCpu.set(key, String(p.spec.containers[0]?.resources?.requests?.['cpu']));
        }
      },
    });
    expect([...boostedCpu.values()].sort()).toEqual(['1', '1500m', '1500m']);
    expect(run.timeToReady).toMatchObject({ pods: 3, boosted: 3 });
  });
});
