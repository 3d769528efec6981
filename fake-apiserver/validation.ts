/**
 * The validation the fake server does: names (DNS-1123, as apimachinery's
 * validation.IsDNS1123Subdomain / IsDNS1123Label), labels, and the obvious per-kind rules
 * (a pod needs containers with names and images). Failures are 422 Invalid with one cause
 * per field (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#validation).
 */
import type { ResourceDef } from './resources.ts';
import type { KubeObject } from './types.ts';
import type { StatusCause } from './status.ts';
import { invalid } from './status.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);

/** Kinds whose names must be DNS-1123 labels rather than subdomains (path segment names). */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

const nameCauses = (def: ResourceDef, obj: KubeObject): StatusCause[] => {
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  if (!name) causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else if (LABEL_NAMED.has(def.kind) ? !isDns1123Label(name) : !isDns1123Subdomain(name)) {
    causes.push({
      reason: 'FieldValueInvalid', field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 ${LABEL_NAMED.has(def.kind) ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
    if (!QUALIFIED_NAME.test(k) || k.length > 316) causes.push({ reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'` });
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) causes.push({ reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "${String(v)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'` });
  }
  return causes;
};

interface Container { name?: unknown; image?: unknown }

const containerCauses = (path: string, containers: unknown, required: boolean): StatusCause[] => {
  const causes: StatusCause[] = [];
  if (!Array.isArray(containers) || containers.length === 0) {
    if (required) causes.push({ reason: 'FieldValueRequired', field: path, message: 'Required value' });
    return causes;
  }
  const seen = new Set<string>();
  containers.forEach((c: Container, i) => {
    const name = typeof c?.name === 'string' ? c.name : '';
    if (!name) causes.push({ reason: 'FieldValueRequired', field: `${path}[${i}].name`, message: 'Required value' });
    else if (!isDns1123Label(name)) causes.push({ reason: 'FieldValueInvalid', field: `${path}[${i}].name`, message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
    else if (seen.has(name)) causes.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}].name`, message: `Duplicate value: "${name}"` });
    seen.add(name);
    if (typeof c?.image !== 'string' || c.image.trim() === '') causes.push({ reason: 'FieldValueRequired', field: `${path}[${i}].image`, message: 'Required value' });
  });
  return causes;
};

const podSpecCauses = (path: string, spec: unknown): StatusCause[] => {
  if (typeof spec !== 'object' || spec === null) return [{ reason: 'FieldValueRequired', field: path, message: 'Required value' }];
  const s = spec as { containers?: unknown; initContainers?: unknown };
  return [...containerCauses(`${path}.containers`, s.containers, true), ...containerCauses(`${path}.initContainers`, s.initContainers, false)];
};

/** Per-kind checks; the kinds not named here only get the name and label checks. */
const KIND_RULES: Record<string, (obj: KubeObject) => StatusCause[]> = {
  Pod: (o) => podSpecCauses('spec', o.spec),
  ReplicaSet: (o) => [...podSpecCauses('spec.template.spec', o.spec?.template?.spec), ...selectorCauses(o)],
  Deployment: (o) => [...podSpecCauses('spec.template.spec', o.spec?.template?.spec), ...selectorCauses(o)],
  PriorityClass: (o) => (typeof o.value === 'number' && Number.isInteger(o.value) ? [] : [{ reason: 'FieldValueRequired', field: 'value', message: 'Required value' }]),
};

/** A workload's selector must be non-empty and select its template's labels. */
function selectorCauses(o: KubeObject): StatusCause[] {
  const sel = o.spec?.selector as { matchLabels?: Record<string, string> } | undefined;
  if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && !(sel as { matchExpressions?: unknown[] }).matchExpressions?.length)) {
    return [{ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' }];
  }
  const labels = (o.spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
  const ok = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return ok ? [] : [{ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\`` }];
}

export const validate = (def: ResourceDef, obj: KubeObject): void => {
  const causes = [...nameCauses(def, obj), ...(KIND_RULES[def.kind]?.(obj) ?? [])];
  if (causes.length) throw invalid(def.kind, def.group, obj.metadata.name ?? obj.metadata.generateName ?? '', causes);
};
