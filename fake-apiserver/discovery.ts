/**
 * Discovery documents: /version, /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION.
 * These are the legacy (unaggregated) documents. kubectl first asks for aggregated
 * discovery (Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList);
 * a server that answers with plain application/json is taken as not supporting it and
 * kubectl falls back to fetching each group version, as it does against older servers
 * (https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api).
 */
import type { ResourceDef, ResourceTable } from './resources.ts';
import { groupVersion } from './resources.ts';

export const KUBE_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0-polyarch-fake' };

export const versionInfo = (): Record<string, string> => ({
  ...KUBE_VERSION,
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
});

const MAIN_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUB_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  resize: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  binding: ['create'],
  eviction: ['create'],
};
const SUB_KIND: Record<string, (r: ResourceDef) => { kind: string; group?: string; version?: string }> = {
  status: (r) => ({ kind: r.kind }),
  resize: (r) => ({ kind: r.kind }),
  scale: () => ({ kind: 'Scale', group: 'autoscaling', version: 'v1' }),
  binding: () => ({ kind: 'Binding' }),
  eviction: () => ({ kind: 'Eviction', group: 'policy', version: 'v1' }),
};

export const apiVersions = (serverAddress: string): unknown => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

const apiGroup = (name: string, versions: string[]): unknown => ({
  name,
  versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
  preferredVersion: { groupVersion: `${name}/${versions[0] ?? ''}`, version: versions[0] ?? '' },
});

export const apiGroupList = (table: ResourceTable): unknown => ({
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [...table.groups()].map(([name, versions]) => apiGroup(name, versions)),
});

export const apiGroupDoc = (table: ResourceTable, group: string): unknown | undefined => {
  const versions = table.groups().get(group);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...(apiGroup(group, versions) as object) } : undefined;
};

export const apiResourceList = (table: ResourceTable, group: string, version: string): unknown | undefined => {
  const defs = table.all.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const r of defs) {
    resources.push({
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: MAIN_VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      storageVersionHash: Buffer.from(`${groupVersion(r)}/${r.kind}`).toString('base64').slice(0, 11),
    });
    for (const s of r.subresources) {
      resources.push({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, verbs: SUB_VERBS[s] ?? [], ...(SUB_KIND[s]?.(r) ?? { kind: r.kind }) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
};
