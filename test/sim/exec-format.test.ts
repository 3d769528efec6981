// Exec format errors on the embedded cluster: an index whose arm64 entry lies is caught,
// recorded and repaired (its pods run on amd64, and no pod of that digest is bound to an
// arm64 node after the record); a bare pod whose only image runs nowhere is blocked and
// left alone; the report says so. The platform-blind baseline only suffers them.
import { describe, expect, it } from 'vitest';
import { parseScenario, type Scenario } from '../../src/sim/scenario/load.ts';
import { runStrategy } from '../../src/cli/simulate/runner.ts';
import { simulate } from '../../src/cli/simulate/simulate.ts';
import { figuresOf, summaryJson } from '../../src/sim/summary.ts';
import { renderSummary } from '../../src/cli/simulate/tables.ts';
import { renderReport } from '../../src/sim/report/html.ts';
import { SimRegistry } from '../../src/sim/registry.ts';

const SCENARIO = `
apiVersion: polyarch.io/v1alpha1
kind: Scenario
metadata: {name: liars}
spec:
  duration: 40m
  seed: 3
  policy: {interval: 5m, window: 60m, horizon: 5m, headroom: 0.15, evictionTimeout: 5m, startup: 1m}
  images:
    - {reference: 'reg.test/liar:1', platforms: [linux/amd64, linux/arm64], binaries: {linux/arm64: linux/amd64}}
    - {reference: 'reg.test/nowhere:1', platforms: [linux/arm64], binaries: {linux/arm64: linux/amd64}}
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Node, metadata: {name: amd-1, labels: {kubernetes.io/arch: amd64, kubernetes.io/os: linux}}, status: {allocatable: {cpu: '4', memory: 8Gi, pods: '30'}}}
  - {apiVersion: v1, kind: Node, metadata: {name: arm-1, labels: {kubernetes.io/arch: arm64, kubernetes.io/os: linux}}, status: {allocatable: {cpu: '8', memory: 16Gi, pods: '30'}}}
  - {apiVersion: v1, kind: Node, metadata: {name: arm-2, labels: {kubernetes.io/arch: arm64, kubernetes.io/os: linux}}, status: {allocatable: {cpu: '8', memory: 16Gi, pods: '30'}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: liar, namespace: ml}
spec:
  replicas: 4
  selector: {matchLabels: {app: liar}}
  template:
    metadata: {labels: {app: liar}}
    spec:
      containers: [{name: app, image: 'reg.test/liar:1', resources: {requests: {cpu: 200m, memory: 128Mi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: stuck, namespace: ml}
spec:
  containers: [{name: app, image: 'reg.test/nowhere:1', resources: {requests: {cpu: 100m, memory: 64Mi}}}]
`;

function load(): Scenario {
  const r = parseScenario(SCENARIO, 'liars.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
}

describe('simulate: exec format errors caught and repaired', () => {
  it('records the lying digest, moves its pods to amd64 for good, and blocks the pod that runs nowhere', async () => {
    const scenario = load();
    const registry = new SimRegistry(scenario.images);
    const liar = registry.answer('reg.test/liar:1');
    const armDigest = liar.ok ? liar.value.platforms.find((p) => p.platform.architecture === 'arm64')?.digest : undefined;
    expect(armDigest).toBeDefined();
    const onArm: { minute: number; pod: string }[] = [];
    const stuckUids = new Set<string>();
    const result = await runStrategy(scenario, {
      seed: 3, strategy: 'polyarch', checkInvariants: true, registry,
      onMinute: (minute, w) => {
        for (const [key, pod] of w.cluster.podEntries()) {
          if (key === 'ml/stuck') stuckUids.add(pod.metadata.uid ?? '');
          // On arm64 the lying digest runs when the pod names it, or names the index (one arm64 entry: the runtime pulls it).
          if (pod.spec.nodeName?.startsWith('arm-') && pod.spec.containers.some((c) => c.image?.includes(armDigest ?? '?') || c.image === 'reg.test/liar:1')) onArm.push({ minute, pod: key });
        }
      },
    });
    const moved = result.execFormat.filter((e) => e.image === 'reg.test/liar:1');
    // The scheduler trusted the index at first (arm64 nodes have more room): some replicas failed there, each caught once.
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((e) => e.outcome === 'moving' && e.digest === armDigest && e.platform === 'linux/arm64/v8')).toBe(true);
    expect(new Set(moved.map((e) => e.pod)).size).toBe(moved.length);
    const repaired = result.migrations.filter((m) => m.reason === 'exec-format' && m.app === 'ml/liar');
    expect(repaired.length).toBe(moved.length);
    expect(repaired.every((m) => m.recoveredMinute !== undefined && m.toPlatform === 'linux/amd64')).toBe(true);
    // Never again on arm64: the pods of that digest on arm64 are those caught, gone the minute after; none is placed there later.
    expect(onArm.length).toBeGreaterThan(0);
    expect(new Set(onArm.map((o) => o.pod))).toEqual(new Set(moved.map((e) => e.pod)));
    const lastCaught = Math.max(...moved.map((e) => e.minute));
    expect(onArm.filter((o) => o.minute > lastCaught)).toEqual([]);
    // The pod whose image runs nowhere: blocked once, never moved (one incarnation all along).
    const blocked = result.execFormat.filter((e) => e.pod === 'ml/stuck');
    expect(blocked.map((e) => e.outcome)).toEqual(['blocked']);
    expect(blocked[0]?.reason).toMatch(/share no platform: reg\.test\/nowhere:1 \(no platforms\)/);
    expect(result.migrations.filter((m) => m.pod === 'ml/stuck')).toEqual([]);
    expect(stuckUids.size).toBe(1);
    expect(result.invariantViolations).toEqual([]);
  }, 120_000);

  it('the report shows them caught and repaired, with the time to repair; kube-scheduler only suffers them', async () => {
    const report = await simulate(load(), { seed: 3, strategies: ['polyarch', 'kube-scheduler'] });
    const [poly, kube] = report.runs.map(figuresOf);
    expect(poly!.execFormatCaught).toBe(poly!.execFormatRepaired + poly!.execFormatBlocked);
    expect(poly!.execFormatBlocked).toBe(1);
    expect(poly!.meanMinutesToRepair).toBeGreaterThan(0);
    expect(kube!.execFormatCaught).toBe(0);
    expect(kube!.execFormatErrorPods).toBeGreaterThan(0);
    const text = renderSummary(summaryJson(report), undefined);
    expect(text).toMatch(/Exec format errors caught \(polyarch\): \d+/);
    expect(text).toContain(`${poly!.execFormatCaught}/${poly!.execFormatRepaired}/${poly!.execFormatBlocked}`);
    expect(text).toContain('blocked: runs nowhere');
    const html = renderReport(report);
    expect(html).toContain('Exec format errors caught and repaired');
    expect(html).toMatch(/running on amd-1 \(linux\/amd64\) at [^,]+, \d+ min after it failed/);
  }, 120_000);
});
