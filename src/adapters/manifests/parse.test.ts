import { describe, expect, it } from 'vitest';
import { parseManifests } from './parse.ts';

const pod = (extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: nginx:1.25
${extra}`;

describe('parseManifests', () => {
  it('reads multi-document YAML, lists, and skips other kinds', () => {
    const text = `${pod()}---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: n1}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}
---
`;
    const r = parseManifests(text, 'a.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.pods).toHaveLength(1);
    expect(r.value.nodes.map((n) => n.metadata.name)).toEqual(['n1']);
    expect(r.value.skipped).toEqual(['ConfigMap/cm']);
    expect(r.value.inOrder.map((o) => o.kind)).toEqual(['Pod']);
  });

  it('names objects written with generateName only, deterministically', () => {
    const text = 'kind: Job\nmetadata: {generateName: backup-}\nspec: {template: {spec: {containers: [{name: b, image: busybox}]}}}\n';
    const a = parseManifests(text, 'j.yaml');
    const b = parseManifests(text, 'j.yaml');
    expect(a.ok && a.value.jobs[0]?.metadata.name).toMatch(/^backup-[a-z0-9]{5}$/);
    expect(a.ok && a.value.jobs[0]?.metadata.name).toBe(b.ok && b.value.jobs[0]?.metadata.name);
    const none = parseManifests('kind: Pod\nmetadata: {}\nspec: {containers: [{name: a, image: x}]}\n', 'p.yaml');
    expect(!none.ok && none.error).toContain('metadata.name: name or generateName is required');
  });

  it('reads JSON', () => {
    const r = parseManifests(JSON.stringify({ kind: 'Node', metadata: { name: 'n1' }, status: { allocatable: { cpu: 4 } } }), 'a.json');
    expect(r.ok && r.value.nodes[0]?.status?.allocatable?.['cpu']).toBe(4);
  });

  it.each([
    [pod('    resources: {requests: {cpu: 2 cores}}'), 'a.yaml: document 1 (Pod p): spec.containers[0].resources.requests.cpu: invalid quantity "2 cores"'],
    [pod().replace('    image: nginx:1.25\n', ''), 'a.yaml: document 1 (Pod p): spec.containers[0].image:'],
    [pod('  tolerations: [{key: a, operator: Exists, value: b}]'), 'spec.tolerations[0].value: must be empty when operator is Exists'],
    [pod('  tolerations: [{value: b}]'), 'spec.tolerations[0].operator: must be Exists when key is empty'],
    [pod('  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: Gt, values: [x]}]}]}}}'), 'values: must be a single integer for Gt'],
    ['kind: Node\nmetadata: {}\n', 'a.yaml: document 1 (Node): metadata.name'],
    ['just a string', 'expected a Kubernetes object'],
    ['apiVersion: v1\nmetadata: {name: x}\n', 'kind: required'],
    ['kind: Pod\nmetadata: {name: [unclosed\n', 'a.yaml: document 1: YAML'],
    ['kind: Node\nmetadata: {name: n}\nspec: {taints: [{key: k, effect: Sometimes}]}\n', 'spec.taints[0].effect'],
  ])('names the document and field: %#', (text, message) => {
    const r = parseManifests(text, 'a.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});
