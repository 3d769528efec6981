// Placement policy per namespace in the simulator: the scenario's PlacementPolicy and
// ClusterPlacementPolicy objects, read by the one Scheduler through the in-memory reader.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runStrategy } from '../../src/cli/simulate/runner.ts';
import { parseScenario, loadScenario } from '../../src/sim/scenario/load.ts';
import { SimRegistry } from '../../src/sim/registry.ts';

const file = fileURLToPath(new URL('../../examples/placement-policy/scenario.yaml', import.meta.url));

describe('simulate: placement policy per namespace', () => {
  it('team-a stays on arm64 (its policy), team-b on amd64 or arm64 (the cluster default), before and after a drain', async () => {
    const r = loadScenario(file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const scenario = r.value;
    expect(scenario.placementPolicies?.length).toBe(2);
    const where: Record<number, Record<string, string[]>> = {};
    await runStrategy(scenario, {
      seed: 3, strategy: 'polyarch', checkInvariants: true, registry: new SimRegistry(scenario.images),
      onMinute: (m, w) => {
        if (m !== 20 && m !== 60) return;
        const byNs: Record<string, string[]> = {};
        for (const [key, p] of w.cluster.podEntries()) {
          const node = p.spec.nodeName;
          if (!node) continue;
          (byNs[key.split('/')[0] ?? ''] ??= []).push(node);
        }
        where[m] = byNs;
      },
    });
    for (const m of [20, 60]) {
      expect(where[m]?.['team-a']?.length, `minute ${m}`).toBe(4);
      expect(new Set(where[m]?.['team-a']?.map((n) => n.split('-')[0])), `minute ${m}`).toEqual(new Set(['arm']));
      expect(where[m]?.['team-b']?.length, `minute ${m}`).toBe(4);
      for (const n of where[m]?.['team-b'] ?? []) expect(n, `minute ${m}`).not.toMatch(/^rv-/);
    }
    expect(where[60]?.['team-a']).toEqual(['arm-2', 'arm-2', 'arm-2', 'arm-2']);
  });

  it('an invalid policy in a scenario is refused with the field named', () => {
    const text = `apiVersion: polyarch.io/v1alpha1
kind: Scenario
metadata: {name: x}
spec: {duration: 10m}
---
apiVersion: polyarch.io/v1alpha1
kind: PlacementPolicy
metadata: {name: p, namespace: a}
spec: {platforms: [linux/sparc]}
`;
    const r = parseScenario(text, 'x.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/spec\.platforms\[0\]: not a platform/);
  });
});
