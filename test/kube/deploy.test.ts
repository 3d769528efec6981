/**
 * deploy/ is what runs in a cluster: the RBAC rules must allow every request polyarch
 * made in a real run (no more is granted than a verb used somewhere), the Deployment
 * runs two replicas of `serve` with flags the command accepts, and the CRD's schema
 * admits the Migration records the migrator writes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { requestDrain } from '../../src/app/migrator.ts';
import { buildProgram } from '../../src/cli/index.ts';
import { barePod, deployment, eventually, node, pods, startHarness, type Harness } from './helpers.ts';

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
type Doc = { kind: string; metadata: { name: string }; rules?: Rule[]; spec?: Record<string, unknown> };

const docs = (file: string): Doc[] => parseAllDocuments(readFileSync(`deploy/${file}`, 'utf8')).map((d) => d.toJSON() as Doc);
const rbac = docs('rbac.yaml');
const rules = rbac.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role').flatMap((d) => d.rules ?? []);

/** An HTTP request as RBAC sees it: API group, resource (with subresource), verb. */
function attributes(method: string, path: string, watch: boolean): { group: string; resource: string; verb: string } | undefined {
  const url = new URL(path, 'http://x');
  const segs = url.pathname.split('/').filter(Boolean);
  let group = '';
  let rest: string[];
  if (segs[0] === 'api') rest = segs.slice(2);
  else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    rest = segs.slice(3);
  } else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, sub] = rest;
  if (!resource) return undefined;
  const collection = name === undefined;
  const verb = { GET: watch || url.searchParams.get('watch') === 'true' ? 'watch' : collection ? 'list' : 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? method;
  return { group, resource: sub ? `${resource}/${sub}` : resource, verb };
}

const allowed = (a: { group: string; resource: string; verb: string }): boolean =>
  rules.some((r) => r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('deploy/', () => {
  it('grants every request a scheduling and migration run made', async () => {
    h = await startHarness({ controllers: 'all', nodeMonitorGracePeriodMs: 400 }, {}, {});
    const { server, cluster } = h;
    server.seed(node('amd-1', 'amd64'), node('amd-2', 'amd64'));
    await server.create(deployment('web', 3, { web: 'registry.example/shop/web:1.4' }));
    await server.create(barePod('solo', { solo: 'registry.example/shop/web:1.4' }));
    await server.create(barePod('db', { db: 'registry.example/mainframe/db:9' }));
    await eventually(() => (pods(server).filter((p) => p.spec?.['nodeName']).length === 4 ? true : undefined), 15_000, 'four bound');
    expect((await requestDrain(cluster, cluster, 'amd-1')).ok).toBe(true);
    await eventually(() => (pods(server).filter((p) => p.spec?.['nodeName'] === 'amd-1').length === 0 ? true : undefined), 15_000, 'amd-1 drained');

    const seen = new Map<string, { group: string; resource: string; verb: string }>();
    for (const r of server.requests) {
      const a = attributes(r.method, r.path, r.watch);
      if (a) seen.set(`${a.group}|${a.resource}|${a.verb}`, a);
    }
    const denied = [...seen.values()].filter((a) => !allowed(a));
    expect(denied).toEqual([]);
    // The run exercised the writes that matter.
    for (const k of ['|pods/binding|create', '|pods|patch', '|pods/status|patch', '|events|create', '|pods/eviction|create', '|nodes|patch', 'polyarch.io|migrations|create']) {
      expect([...seen.keys()], k).toContain(k);
    }
  });

  it('runs two replicas of `polyarch serve` with flags the command accepts, behind a PodDisruptionBudget', async () => {
    const d = docs('deployment.yaml');
    const dep = d.find((x) => x.kind === 'Deployment');
    const spec = dep?.spec as { replicas: number; template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
    expect(spec.replicas).toBe(2);
    expect(spec.template.spec.serviceAccountName).toBe('polyarch');
    const args = spec.template.spec.containers[0]?.args ?? [];
    const serve = (await buildProgram(['serve'])).commands.find((c) => c.name() === 'serve');
    const known = new Set(serve?.options.map((o) => o.long));
    for (const a of args.slice(1)) expect(known, a).toContain(a.split('=')[0]);
    expect(d.some((x) => x.kind === 'PodDisruptionBudget')).toBe(true);
    expect(rbac.find((x) => x.kind === 'ServiceAccount')?.metadata.name).toBe('polyarch');
  });

  it('has a Migration CRD whose schema names every field the migrator writes', async () => {
    const crd = docs('crd-migration.yaml')[0];
    const version = (crd?.spec as { versions: { name: string; schema: { openAPIV3Schema: { properties: Record<string, { properties: Record<string, { enum?: string[] }> }> } } }[] }).versions[0];
    expect(version?.name).toBe('v1alpha1');
    const props = version?.schema.openAPIV3Schema.properties ?? {};
    h = await startHarness({ controllers: 'all', nodeMonitorGracePeriodMs: 300 }, {}, {});
    const { server } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    await server.create(barePod('solo', { solo: 'registry.example/shop/web:1.4' }));
    await eventually(() => (server.get('v1', 'Pod', 'solo')?.spec?.['nodeName'] ? true : undefined), 10_000, 'solo bound');
    server.controllers.stopKubelet(String(server.get('v1', 'Pod', 'solo')?.spec?.['nodeName']));
    const rec = await eventually(() => server.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system').find((m) => (m.status as { phase?: string })?.phase === 'Succeeded'), 15_000, 'a migration');
    for (const part of ['spec', 'status'] as const) {
      for (const [k, v] of Object.entries((rec[part] ?? {}) as Record<string, unknown>)) {
        const field = props[part]?.properties[k];
        expect(field, `${part}.${k}`).toBeDefined();
        if (field?.enum) expect(field.enum).toContain(v);
      }
    }
  });
});
