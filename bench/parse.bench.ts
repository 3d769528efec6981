/**
 * Parsing a 5,000-node cluster file (what `polyarch schedule` and `simulate` read):
 * CPU seconds of readManifests (read, parse, validate every object by its schema) for
 * the same nodes written as multi-document YAML and as one JSON List (`kubectl get
 * nodes -o json`), in the same run; the JSON fast path against the YAML parser.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readManifests } from '../src/adapters/manifests/read.ts';
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
  const best: Record<string, number> = { yaml: Infinity, json: Infinity };
  for (let round = 0; round < 3; round++) {
    for (const kind of ['yaml', 'json'] as const) {
      const t = cpu();
      const r = await readManifests([files[kind]]);
      if (!r.ok || r.value.nodes.length !== NODES) throw new Error(r.ok ? `read ${r.value.nodes.length} nodes` : r.error);
      best[kind] = Math.min(best[kind] ?? Infinity, cpu() - t);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`${NODES} nodes, best of 3, CPU seconds: YAML ${best['yaml']?.toFixed(3)}, JSON ${best['json']?.toFixed(3)}; JSON/YAML ${((best['json'] ?? 0) / (best['yaml'] ?? 1)).toFixed(3)}`);
}
