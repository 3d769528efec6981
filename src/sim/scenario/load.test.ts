import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario } from './load.ts';
import { parseManifests } from '../../adapters/manifests/parse.ts';

const fixture = fileURLToPath(new URL('../../../test/fixtures/small-scenario.yaml', import.meta.url));
const text = readFileSync(fixture, 'utf8');

const scenarioDoc = (spec: string): string => `apiVersion: polyarch.io/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
${spec}`;

const node = `---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/arch: amd64}}
status: {allocatable: {cpu: '4', memory: 8Gi}}`;

function errorsOf(yaml: string): string[] {
  const r = parseScenario(yaml, '/tmp/x/scenario.yaml');
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('parseScenario', () => {
  it('reads the test fixture: objects, a List, usage from a trace, events sorted', () => {
    const r = parseScenario(text, fixture);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const s = r.value;
    expect(s.nodes.map((n) => n.metadata.name)).toEqual(['amd-1', 'amd-2', 'amd-3', 'arm-1', 'arm-2', 'arm-3', 'rv-1', 'rv-2']);
    expect(s.deployments).toHaveLength(5);
    expect(s.statefulSets).toHaveLength(1);
    expect(s.pods.map((p) => p.metadata.name)).toEqual(['toolbox']);
    expect(s.pdbs).toHaveLength(2);
    expect(s.durationMinutes).toBe(180);
    expect(s.deferred.has('shop/batch')).toBe(true);
    expect(s.usage.get('shop/web')?.trace?.series.cpu.length).toBeGreaterThan(4000);
    expect(s.events.map((e) => e.at)).toEqual([30, 40, 60, 80, 100, 120]);
  });

  it('names the document, the kind and name, and the field path', () => {
    const errors = errorsOf(`${scenarioDoc('  duration: 1h')}
${node}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: three
  selector: {matchLabels: {app: web}}
  template: {spec: {containers: [{name: web, image: 'r/web:1'}]}}`);
    expect(errors).toEqual(['document 3 (Deployment shop/web): spec.replicas: Invalid input: expected number, received string']);
  });

  it('refuses an unknown kind and a YAML syntax error, naming their documents', () => {
    const errors = errorsOf(`${scenarioDoc('  duration: 1h')}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
a: [1, 2`);
    expect(errors[0]).toMatch(/^document 2 \(ConfigMap c\): kind: unsupported "ConfigMap"/);
    expect(errors[1]).toMatch(/: document 3: YAML( line \d+)?: /);
  });

  it('wants exactly one Scenario document', () => {
    expect(errorsOf(node.slice(4))).toEqual([expect.stringMatching(/want exactly one document of kind Scenario.*found 0/)]);
  });

  it('checks references: events to unknown nodes, usage of unknown workloads, a missing trace series, a bad duration', () => {
    const errors = errorsOf(`${scenarioDoc(`  duration: 90x
  events: [{at: 10m, type: drain, node: nope}]`)}
${node}`);
    expect(errors).toEqual(['document 1 (Scenario t): spec.duration: a duration such as 90s, 30m, 12h or 2d']);
    const errors2 = errorsOf(`${scenarioDoc(`  duration: 2h
  events: [{at: 10m, type: drain, node: nope}, {at: 3h, type: scale, workload: shop/web, replicas: 2}]
  usage: [{workload: shop/none, trace: {file: ${fixture.replace('test/fixtures/small-scenario.yaml', 'examples/traces/bitbrains-rnd-5vm-3d.csv')}, series: vm-999}, peak: {cpu: 1, memory: 1Gi}}]`)}
${node}`);
    expect(errors2).toContain('document 1 (Scenario t): spec.events[0].node: no Node "nope" in the scenario');
    expect(errors2).toContain('document 1 (Scenario t): spec.events[1].at: 180 minutes is after the end (120)');
    expect(errors2).toContain('document 1 (Scenario t): spec.events[1].workload: no Deployment or StatefulSet shop/web in the scenario');
    expect(errors2).toContain('document 1 (Scenario t): spec.usage[0].workload: no Deployment, StatefulSet or Pod shop/none in the scenario');
    expect(errors2.some((e) => /spec\.usage\[0\]\.trace\.series: no series "vm-999" in .* \(has vm-17, vm-256/.test(e))).toBe(true);
  });

  it('rejects an event of an unknown type and a usage entry with both trace and pattern', () => {
    const errors = errorsOf(`${scenarioDoc(`  duration: 2h
  events: [{at: 10m, type: explode, node: n1}]`)}
${node}`);
    expect(errors[0]).toMatch(/^document 1 \(Scenario t\): spec\.events\[0\]\.type: /);
    const errors2 = errorsOf(`${scenarioDoc(`  duration: 2h
  usage: [{workload: x, peak: {cpu: 1, memory: 1Gi}}]`)}
${node}`);
    expect(errors2).toEqual(['document 1 (Scenario t): spec.usage[0]: give exactly one of trace and pattern']);
  });

  it('requires a node architecture and allocatable, and a PDB with exactly one of its two fields', () => {
    const errors = errorsOf(`${scenarioDoc('  duration: 2h')}
---
apiVersion: v1
kind: Node
metadata: {name: bare}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: b, namespace: x}
spec: {minAvailable: 1, maxUnavailable: 1, selector: {matchLabels: {a: b}}}`);
    expect(errors).toContain('document 3 (PodDisruptionBudget x/b): spec: set exactly one of minAvailable and maxUnavailable');
  });

  it('names a bad quantity and a bad image platform', () => {
    const errors = errorsOf(`${scenarioDoc(`  duration: 2h
  images: [{reference: 'r/a:1', platforms: [linux/sparc64]}]`)}
${node}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: 'r/a:1', resources: {requests: {cpu: lots}}}]}`);
    expect(errors).toContain('document 3 (Pod p): spec.containers[0].resources.requests.cpu: invalid quantity "lots": no digits');
  });

  it('reads the image catalog from a file next to the scenario, and names a bad entry in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-scn-'));
    writeFileSync(join(dir, 'images.yaml'), "images:\n  - {reference: 'r/a:1', platforms: [linux/amd64, linux/arm64]}\n");
    const good = parseScenario(`${scenarioDoc('  duration: 1h\n  catalogFile: images.yaml')}\n${node}`, join(dir, 'scenario.yaml'));
    if (!good.ok) throw new Error(good.errors.join('\n'));
    expect(good.value.images).toEqual([{ reference: 'r/a:1', platforms: ['linux/amd64', 'linux/arm64'] }]);
    writeFileSync(join(dir, 'bad.yaml'), "images:\n  - {reference: 'r/a:1'}\n");
    const bad = parseScenario(`${scenarioDoc('  duration: 1h\n  catalogFile: bad.yaml')}\n${node}`, join(dir, 'scenario.yaml'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatch(/^document 1 \(Scenario t\): spec\.catalogFile bad\.yaml: images\[0\]/);
  });
});

describe('one pod-spec schema (src/core/k8s/schema.ts) for scenario files and manifests', () => {
  // The same bad pod spec, in a scenario and in a manifest for `polyarch schedule`: the same field, the same words.
  const specs = [
    '{containers: [{name: c, image: r/a:1, resources: {requests: {memory: 1GB}}}]}',
    '{containers: [{name: c, image: r/a:1}], tolerations: [{value: b}]}',
    '{containers: [{name: C_1, image: r/a:1}]}',
    '{containers: [{name: c, image: r/a:1}], affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In}]}]}}}}',
    '{containers: []}',
  ];
  for (const spec of specs) {
    it(`names the field alike: ${spec}`, () => {
      const scenario = errorsOf(`${scenarioDoc('  duration: 1h')}\n${node}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: ${spec}`);
      const manifest = parseManifests(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: ${spec}\n`, 'm.yaml');
      expect(manifest.ok).toBe(false);
      const tail = (s: string): string => s.slice(s.indexOf('): ') + 3);
      expect(scenario.map(tail)).toEqual([tail(manifest.ok ? '' : manifest.error)]);
      expect(tail(scenario[0] ?? '')).toMatch(/^spec\.[a-zA-Z[\].0-9]+: /);
    });
  }
});
