/**
 * A minimal OpenAPI v3 discovery (/openapi/v3 and /openapi/v3/api/v1, /openapi/v3/apis/G/V):
 * paths and operations with their x-kubernetes-group-version-kind and the fieldValidation
 * query parameter, but no schemas. kubectl reads it to learn that the server validates
 * fields itself (server-side field validation,
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation), and so does
 * not need to download OpenAPI v2 for client-side validation. Without schemas, kubectl
 * apply falls back to its compiled-in types for strategic merge (it prints a warning).
 * /openapi/v2 is not served (404).
 */
import type { ResourceTable } from './resources.ts';
import { groupVersion } from './resources.ts';

const gvPath = (group: string, version: string): string => (group ? `apis/${group}/${version}` : `api/${version}`);

export const openapiV3Index = (table: ResourceTable): unknown => {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of table.all) {
    const p = gvPath(r.group, r.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${Buffer.from(p).toString('hex').slice(0, 16).toUpperCase()}` };
  }
  return { paths };
};

const param = (name: string): unknown => ({ name, in: 'query', schema: { type: 'string' }, uniqueItems: true });

export const openapiV3Doc = (table: ResourceTable, path: string): unknown | undefined => {
  const defs = table.all.filter((r) => gvPath(r.group, r.version) === path);
  if (!defs.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const op = (id: string, writes: boolean): unknown => ({
      operationId: id,
      'x-kubernetes-group-version-kind': gvk,
      parameters: writes ? [param('dryRun'), param('fieldManager'), param('fieldValidation')] : [],
      responses: { 200: { description: 'OK' } },
    });
    const base = `/${gvPath(r.group, r.version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    paths[base] = { get: op(`list${r.kind}`, false), post: op(`create${r.kind}`, true) };
    paths[`${base}/{name}`] = { get: op(`read${r.kind}`, false), put: op(`replace${r.kind}`, true), patch: op(`patch${r.kind}`, true), delete: op(`delete${r.kind}`, false) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: groupVersion(defs[0] ?? { group: '', version: 'v1' }) },
    paths,
    components: { schemas: {} },
  };
};
