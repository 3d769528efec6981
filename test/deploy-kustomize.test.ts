/**
 * deploy/ installs the whole product with `kubectl apply -k deploy/`: every component
 * renders, alone and together, with the real kubectl; the rendered objects are accepted
 * by the fake API server (through kubectl apply, on a cluster with cert-manager's CRDs);
 * every container runs polyarch's image on a read-only root; the Deployments run
 * `polyarch serve` with flags it accepts, each on a Lease of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/index.ts';
import { FakeApiServer } from '../fake-apiserver/index.ts';
import { COMPONENTS, DEPLOY_DIR, IMAGE, renderDeploy, type K8sObject } from './support/deploy.ts';

const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

interface Container { name: string; image: string; args?: string[]; securityContext?: { readOnlyRootFilesystem?: boolean } }
const podSpec = (o: K8sObject): { containers: Container[]; serviceAccountName?: string } =>
  (o['spec'] as { template: { spec: { containers: Container[]; serviceAccountName?: string } } }).template.spec;
const workloads = (objs: readonly K8sObject[]): K8sObject[] => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
const ids = (objs: readonly K8sObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`).sort();

/** What each component brings (its workloads and CRDs). */
const PARTS: Record<(typeof COMPONENTS)[number], string[]> = {
  scheduler: ['Deployment/polyarch-system/polyarch', 'CustomResourceDefinition/migrations.polyarch.io'],
  admission: ['Deployment/polyarch-system/polyarch-admission', 'Service/polyarch-system/polyarch-admission', 'MutatingWebhookConfiguration/polyarch', 'Certificate/polyarch-system/polyarch-admission'],
  autoscaler: ['Deployment/polyarch-system/polyarch-autoscaler', 'DaemonSet/polyarch-system/polyarch-probe', 'CustomResourceDefinition/scalingpolicies.polyarch.io'],
};

let all: K8sObject[] = [];
beforeAll(async () => {
  all = await renderDeploy();
});

describe('kubectl kustomize deploy/', () => {
  it('renders the whole product once, each object once', () => {
    const got = ids(all);
    expect(new Set(got).size).toBe(got.length);
    for (const want of Object.values(PARTS).flat()) expect(got).toContain(want);
    expect(got).toContain('Namespace/polyarch-system');
  });

  it.each(COMPONENTS.map((c) => [c]))('renders base with only the %s component, and nothing of the others', async (component) => {
    const got = ids(await renderDeploy({ components: [component] }));
    for (const want of PARTS[component]) expect(got).toContain(want);
    for (const other of COMPONENTS.filter((c) => c !== component)) for (const theirs of PARTS[other]) expect(got).not.toContain(theirs);
    // Every object a component's RBAC binds is there: its ServiceAccounts.
    const sas = new Set(workloads(await renderDeploy({ components: [component] })).map((w) => podSpec(w).serviceAccountName));
    for (const sa of sas) expect(got).toContain(`ServiceAccount/polyarch-system/${sa}`);
  });

  it("runs polyarch's image, the one `npm run image` tags, on a read-only root in every container", () => {
    const containers = workloads(all).flatMap((w) => podSpec(w).containers);
    expect(containers.length).toBe(4);
    for (const c of containers) {
      expect(c.image, c.name).toBe(`${IMAGE}:${version}`);
      expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
    }
  });

  it('runs `polyarch serve` with flags it accepts, each Deployment on a Lease of its own', async () => {
    const serve = (await buildProgram(['serve'])).commands.find((c) => c.name() === 'serve');
    const known = new Set(serve?.options.map((o) => o.long));
    const leases = new Map<string, string>();
    for (const d of all.filter((o) => o.kind === 'Deployment')) {
      const args = podSpec(d).containers[0]?.args ?? [];
      expect(args[0]).toBe('serve');
      for (const a of args.slice(1)) expect(known, `${d.metadata.name}: ${a}`).toContain(a.split('=')[0]);
      // Roles that elect a leader (scheduler, migrator, autoscaler) name their Lease.
      if (args.some((a) => ['--scheduler', '--migrator', '--autoscaler'].includes(a))) {
        const lease = args.find((a) => a.startsWith('--leader-elect-name='));
        expect(lease, d.metadata.name).toBeDefined();
        leases.set(d.metadata.name, String(lease));
      }
    }
    expect(leases.size).toBe(2);
    expect(new Set(leases.values()).size).toBe(leases.size);
  });
});

interface Rule { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs?: string[] }
/**
 * Whether the rendered RBAC lets a ServiceAccount do `verb` on `resource` (in `namespace`, on
 * object `name`), through its ClusterRoleBindings and the RoleBindings of that namespace.
 */
function allowed(objs: readonly K8sObject[], sa: string, verb: string, resource: string, where: { namespace?: string; name?: string } = {}): boolean {
  const bound = (o: K8sObject): boolean => ((o['subjects'] as { kind: string; name: string; namespace?: string }[] | undefined) ?? []).some((x) => x.kind === 'ServiceAccount' && x.name === sa && x.namespace === 'polyarch-system');
  const roleOf = (b: K8sObject): K8sObject | undefined => {
    const ref = b['roleRef'] as { kind: string; name: string };
    return objs.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace));
  };
  const bindings = objs.filter((o) => (o.kind === 'ClusterRoleBinding' || (o.kind === 'RoleBinding' && o.metadata.namespace === where.namespace)) && bound(o));
  return bindings.some((b) => ((roleOf(b)?.['rules'] as Rule[] | undefined) ?? []).some((r) =>
    (r.apiGroups ?? []).includes('') && (r.resources ?? []).includes(resource) && (r.verbs ?? []).includes(verb) && (r.resourceNames === undefined || (where.name !== undefined && r.resourceNames.includes(where.name)))));
}

describe('the rendered RBAC of `serve --exec-format` (docs/exec-format.md)', () => {
  const record = { namespace: 'polyarch-system', name: 'polyarch-exec-format' };
  it('lets the polyarch Deployment read log tails, and create, read and patch the record', () => {
    const args = podSpec(all.find((o) => o.kind === 'Deployment' && o.metadata.name === 'polyarch')!).containers[0]?.args ?? [];
    expect(args).toContain('--exec-format');
    expect(allowed(all, 'polyarch', 'get', 'pods/log', { namespace: 'shop', name: 'web-1' })).toBe(true);
    expect(allowed(all, 'polyarch', 'create', 'configmaps', { namespace: 'polyarch-system' })).toBe(true);
    for (const verb of ['get', 'patch']) expect(allowed(all, 'polyarch', verb, 'configmaps', record), verb).toBe(true);
    // Nothing more: no other ConfigMap, in no other namespace.
    expect(allowed(all, 'polyarch', 'get', 'configmaps', { namespace: 'polyarch-system', name: 'other' })).toBe(false);
    expect(allowed(all, 'polyarch', 'patch', 'configmaps', { ...record, namespace: 'default' })).toBe(false);
  });

  it('lets the extender and webhook read the record, and only read it', () => {
    expect(allowed(all, 'polyarch-admission', 'get', 'configmaps', record)).toBe(true);
    expect(allowed(all, 'polyarch-admission', 'patch', 'configmaps', record)).toBe(false);
    expect(allowed(all, 'polyarch-admission', 'get', 'pods/log', { namespace: 'shop', name: 'web-1' })).toBe(false);
  });
});

describe('kubectl apply -k deploy/ against the fake API server', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let dir: string;
  const kubectl = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: dir } }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });

  beforeAll(async () => {
    server = await FakeApiServer.start();
    dir = mkdtempSync(join(tmpdir(), 'polyarch-apply-k-'));
    kubeconfig = await server.writeKubeconfig(join(dir, 'config'));
  });
  afterAll(() => server?.close());

  it('creates every rendered object (cert-manager installed first, as the admission component needs)', async () => {
    const crd = (kind: string, plural: string): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.cert-manager.io}
spec:
  group: cert-manager.io
  scope: Namespaced
  names: {kind: ${kind}, plural: ${plural}, singular: ${kind.toLowerCase()}, listKind: ${kind}List}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
    writeFileSync(join(dir, 'cert-manager.yaml'), [crd('Issuer', 'issuers'), crd('Certificate', 'certificates')].join('---\n'));
    const cm = await kubectl('apply', '-f', join(dir, 'cert-manager.yaml'));
    expect(cm.stderr).toBe('');
    const r = await kubectl('apply', '-k', DEPLOY_DIR);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const created = r.stdout.trim().split('\n').map((l) => l.replace(/ (created|configured|unchanged)$/, ''));
    expect(created.length).toBe(all.length);
    // One kubectl reads them all back (a process per object took longer than the test's
    // bound on a loaded machine).
    const got = await kubectl('get', '-k', DEPLOY_DIR, '-o', 'name');
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    const names = got.stdout.trim().split('\n');
    for (const o of all) {
      const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
      expect(names).toContain(`${o.kind.toLowerCase()}${group}/${o.metadata.name}`);
    }
  });
});
