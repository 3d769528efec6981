/**
 * Server-side printing: kubectl asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
 * and prints the Table's rows (https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables).
 * Columns here are a small subset of kube-apiserver's printers.
 */
import type { Clock } from './clock.ts';
import type { ResourceDef } from './resources.ts';
import type { KubeObject } from './types.ts';

export const wantsTable = (accept: string | undefined): boolean => !!accept && /as=Table/.test(accept.split(',')[0] ?? '');

const age = (created: string | undefined, now: number): string => {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
};

interface Column { name: string; type: string; format?: string; cell: (o: KubeObject, now: number) => unknown }

const nameCol: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name ?? '' };
const ageCol: Column = { name: 'Age', type: 'string', cell: (o, now) => age(o.metadata.creationTimestamp, now) };

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    nameCol,
    { name: 'Ready', type: 'string', cell: (o) => `${(o.status?.containerStatuses ?? []).filter((c: { ready?: boolean }) => c.ready).length}/${(o.spec?.containers ?? []).length}` },
    { name: 'Status', type: 'string', cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? '')) },
    ageCol,
    { name: 'Node', type: 'string', cell: (o) => o.spec?.nodeName || '<none>' },
  ],
  Node: [
    nameCol,
    { name: 'Status', type: 'string', cell: (o) => {
      const ready = (o.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready') as { status?: string } | undefined;
      const s = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
      return o.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
    } },
    ageCol,
  ],
  Namespace: [nameCol, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? '' }, ageCol],
};

export const toTable = (def: ResourceDef, objs: KubeObject[], clock: Clock, listRv: string, cont?: string): unknown => {
  const cols = COLUMNS[def.kind] ?? [nameCol, ageCol];
  const now = clock.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: listRv, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: cols.map((c, i) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.name, priority: i === 4 ? 1 : 0 })),
    rows: objs.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
};
