/**
 * deploy/'s scheduler component (as `kubectl kustomize` renders it) is what runs in a
 * cluster: the RBAC rules it grants the polyarch ServiceAccount must allow every request
 * polyarch made in a real run, the Deployment runs two replicas of `serve` with flags the
 * command accepts, and the CRD's schema admits the Migration records the migrator writes.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestDrain } from '../../src/app/migrator.ts';
import { buildProgram } from '../../src/cli/index.ts';
import { denied, grantsOf, renderDeploy, type K8sObject } from '../support/deploy.ts';
import { barePod, deployment, eventually, leaveLostNodeAfter, node, pods, startHarness, type Harness } from './helpers.ts';

type Doc = K8sObject & { spec?: Record<string, unknown> };

let rendered: Doc[] = [];
beforeAll(async () => {
  rendered = await renderDeploy({ components: ['scheduler'] });
});

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
    // A per-architecture tag: the scheduler patches its variant in (an index's pods are only bound).
    await server.create(barePod('tool', { tool: 'registry.example/tools/agent:2.0' }));
    await eventually(() => (pods(server).filter((p) => p.spec?.['nodeName']).length === 5 ? true : undefined), 15_000, 'five bound');
    expect((await requestDrain(cluster, cluster, 'amd-1')).ok).toBe(true);
    await eventually(() => (pods(server).filter((p) => p.spec?.['nodeName'] === 'amd-1').length === 0 ? true : undefined), 15_000, 'amd-1 drained');

    expect(denied(server.requests, grantsOf(rendered, 'polyarch-system', 'polyarch'))).toEqual([]);
    const seen = new Set(server.requests.filter((r) => r.verb && r.resource).map((r) => `${r.apiGroup ?? ''}|${r.subresource ? `${r.resource}/${r.subresource}` : r.resource}|${r.verb}`));
    // The run exercised the writes that matter.
    for (const k of ['|pods/binding|create', '|pods|patch', '|pods/status|patch', '|events|create', '|pods/eviction|create', '|nodes|patch', 'polyarch.io|migrations|create']) {
      expect([...seen.keys()], k).toContain(k);
    }
  });

  it('runs two replicas of `polyarch serve` with flags the command accepts, behind a PodDisruptionBudget', async () => {
    const d = rendered;
    const dep = d.find((x) => x.kind === 'Deployment');
    const spec = dep?.spec as { replicas: number; template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
    expect(spec.replicas).toBe(2);
    expect(spec.template.spec.serviceAccountName).toBe('polyarch');
    const args = spec.template.spec.containers[0]?.args ?? [];
    const serve = (await buildProgram(['serve'])).commands.find((c) => c.name() === 'serve');
    const known = new Set(serve?.options.map((o) => o.long));
    for (const a of args.slice(1)) expect(known, a).toContain(a.split('=')[0]);
    expect(d.some((x) => x.kind === 'PodDisruptionBudget')).toBe(true);
    expect(d.find((x) => x.kind === 'ServiceAccount')?.metadata.name).toBe('polyarch');
  });

  it('has a Migration CRD whose schema names every field the migrator writes', async () => {
    const crd = rendered.find((x) => x.kind === 'CustomResourceDefinition' && x.metadata.name === 'migrations.polyarch.io');
    const version = (crd?.spec as { versions: { name: string; schema: { openAPIV3Schema: { properties: Record<string, { properties: Record<string, { enum?: string[] }> }> } } }[] }).versions[0];
    expect(version?.name).toBe('v1alpha1');
    const props = version?.schema.openAPIV3Schema.properties ?? {};
    h = await startHarness({ controllers: 'all', nodeMonitorGracePeriodMs: 300 }, {}, {});
    const { server } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    await server.create(leaveLostNodeAfter(barePod('solo', { solo: 'registry.example/shop/web:1.4' }), 0));
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
