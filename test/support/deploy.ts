/**
 * deploy/ as `kubectl kustomize` renders it (the real kubectl, as `kubectl apply -k`
 * would), optionally with only some components or the image pointed elsewhere, and the
 * RBAC rules the rendered objects grant one ServiceAccount.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { RequestRecord } from '../../fake-apiserver/faults.ts';

export const DEPLOY_DIR = join(import.meta.dirname, '..', '..', 'deploy');
export const COMPONENTS = ['scheduler', 'admission', 'autoscaler', 'placement-policy'] as const;
export const IMAGE = 'ghcr.io/polyarch/polyarch';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

function kustomize(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl kustomize ${dir}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
    return d.toJSON() as K8sObject;
  });
}

/**
 * deploy/ rendered: all of it (no options), or base plus the `components` given, through
 * a kustomization of a user's own in a temporary directory; `image` replaces polyarch's
 * image name (and `tag` its tag).
 */
export async function renderDeploy(o: { components?: readonly string[]; image?: string; tag?: string } = {}): Promise<K8sObject[]> {
  if (!o.components && !o.image) return parseObjects(await kustomize(DEPLOY_DIR));
  const dir = mkdtempSync(join(tmpdir(), 'polyarch-kustomize-'));
  try {
    const rel = relative(dir, DEPLOY_DIR);
    const images = o.image || o.tag ? `images:\n  - name: ${IMAGE}\n${o.image ? `    newName: ${o.image}\n` : ''}${o.tag ? `    newTag: "${o.tag}"\n` : ''}` : '';
    const parts = o.components ?? COMPONENTS;
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${rel}/base\n${parts.length ? `components:\n${parts.map((c) => `  - ${rel}/${c}\n`).join('')}` : ''}${images}`,
    );
    return parseObjects(await kustomize(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** A rule granted to a ServiceAccount, with the namespace it holds in (undefined: cluster-wide). */
export interface Grant extends Rule {
  namespace: string | undefined;
}

/** The rules the (Cluster)RoleBindings among `objects` grant `namespace/serviceAccount`. */
export function grantsOf(objects: readonly K8sObject[], namespace: string, serviceAccount: string): Grant[] {
  const out: Grant[] = [];
  for (const b of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const subjects = (b['subjects'] ?? []) as { kind: string; name: string; namespace?: string }[];
    if (!subjects.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace)) continue;
    const ref = b['roleRef'] as { kind: string; name: string };
    const role = objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace));
    if (!role) throw new Error(`${b.kind} ${b.metadata.name} refers to ${ref.kind} ${ref.name}, which deploy/ does not define`);
    for (const r of (role['rules'] ?? []) as Rule[]) out.push({ ...r, namespace: b.kind === 'RoleBinding' ? b.metadata.namespace : undefined });
  }
  return out;
}

/** The requests among `requests` no grant allows (RBAC attributes as the fake API server records them). */
export function denied(requests: readonly RequestRecord[], grants: readonly Grant[]): string[] {
  const out = new Set<string>();
  for (const r of requests) {
    if (!r.verb || r.resource === undefined) continue;
    const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
    const group = r.apiGroup ?? '';
    const ok = grants.some(
      (g) =>
        (g.namespace === undefined || g.namespace === r.namespace) &&
        (g.apiGroups.includes(group) || g.apiGroups.includes('*')) &&
        (g.resources.includes(resource) || g.resources.includes('*')) &&
        (g.verbs.includes(r.verb as string) || g.verbs.includes('*')) &&
        (!g.resourceNames || (r.name !== undefined && g.resourceNames.includes(r.name))),
    );
    if (!ok) out.add(`${r.verb} ${group ? `${group}/` : ''}${resource}${r.namespace ? ` in ${r.namespace}` : ''}`);
  }
  return [...out].sort();
}
