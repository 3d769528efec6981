/**
 * Parsing a 5,000-node cluster file (what `polyarch schedule` and `simulate` read):
 * CPU seconds of readManifests (read, parse, validate every object by its schema) for
 * the same nodes written as multi-document YAML and as one JSON List (`kubectl get
 * nodes -o json`), and, as the baseline, the `yaml` library alone parsing the same YAML
 * text (what readManifests used before js-yaml's fast path, src/adapters/yaml-documents.ts),
 * in the same run. The bench also checks that both files give the same nodes.
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readManifests } from '../src/adapters/manifests/read.ts';
import { yamlLibraryValues } from '../src/adapters/yaml-documents.ts';
import type { Node } from '../src/core/k8s/types.ts';
import { makeNode } from '../test/builders/index.ts';

const NODES = 5_000;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'polyarch-parse-'));
  const nodes = Array.from({ length: NODES }, (_, i) =>
    makeNode(`node-${i}`).arch(['amd64', 'arm64', 'loong64'][i % 3] ?? 'amd64').label('topology.kubernetes.io/zone', `z${i % 3}`).allocatable({ cpu: '32', memory: '128Gi', pods: '110' }).build());
  const files = { yaml: join(dir, 'cluster.yaml'), json: join(dir, 'cluster.json') };
  writeFileSync(files.yaml, nodes.map((n) => stringify(n)).join('---\n'));
  writeFileSync(files.json, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }));
  const best: Record<string, number> = { yaml: Infinity, json: Infinity, library: Infinity };
  const read: Record<string, Node[]> = {};
  for (let round = 0; round < 3; round++) {
    for (const kind of ['yaml', 'json'] as const) {
      const t = cpu();
      const r = await readManifests([files[kind]]);
      if (!r.ok || r.value.nodes.length !== NODES) throw new Error(r.ok ? `read ${r.value.nodes.length} nodes` : r.error);
      best[kind] = Math.min(best[kind] ?? Infinity, cpu() - t);
      read[kind] = r.value.nodes;
    }
    const text = readFileSync(files.yaml, 'utf8');
    const t = cpu();
    const r = yamlLibraryValues(text);
    if (!r.ok || r.value.length !== NODES) throw new Error(r.ok ? `parsed ${r.value.length} documents` : r.error);
    best['library'] = Math.min(best['library'] ?? Infinity, cpu() - t);
  }
  rmSync(dir, { recursive: true, force: true });
  if (!isDeepStrictEqual(read['yaml'], read['json'])) throw new Error('the YAML and the JSON file gave different nodes');
  const f = (k: string): string => (best[k] ?? 0).toFixed(3);
  const ratio = (k: string): string => ((best[k] ?? 0) / (best['library'] ?? 1)).toFixed(3);
  console.log(`${NODES} nodes, best of 3, CPU seconds: readManifests YAML ${f('yaml')} (${ratio('yaml')}x the yaml library alone), JSON ${f('json')} (${ratio('json')}x); the yaml library alone (parse only) ${f('library')}`);
}
