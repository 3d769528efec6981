/**
 * The three patch types the API server accepts on PATCH
 * (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/):
 * - application/json-patch+json: RFC 6902 operations;
 * - application/merge-patch+json: RFC 7386 (objects merge, null deletes, arrays replace);
 * - application/strategic-merge-patch+json: like merge patch, but lists with a patch merge
 *   key merge element by element, and `$patch` directives replace or delete. The merge keys
 *   are those of the Go types' `patchMergeKey` tags for the fields polyarch meets.
 * RFC 6902 is hand-written (a few dozen lines) rather than a new dependency.
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiError, badRequest } from './status.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = any;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

// ---- RFC 6902 ----

const unescape = (t: string): string => t.replace(/~1/g, '/').replace(/~0/g, '~');

const parsePointer = (p: string): string[] => {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`invalid JSON pointer "${p}"`);
  return p.slice(1).split('/').map(unescape);
};

const parentOf = (doc: Doc, tokens: string[], path: string): { parent: Doc; key: string } => {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
};

const getAt = (doc: Doc, path: string): Doc => {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, t) ? cur[t] : undefined;
    else cur = undefined;
    if (cur === undefined) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  }
  return cur;
};

const missing = (path: string): ApiError =>
  new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);

const arrayIndex = (arr: unknown[], key: string, path: string, forAdd: boolean): number => {
  if (forAdd && key === '-') return arr.length;
  const i = Number(key);
  if (!/^\d+$/.test(key) || i > arr.length || (!forAdd && i === arr.length)) throw missing(path);
  return i;
};

const addAt = (doc: Doc, path: string, value: Doc): Doc => {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, clone(value));
  else if (isObject(parent)) parent[key] = clone(value);
  else throw missing(path);
  return doc;
};

const removeAt = (doc: Doc, path: string): Doc => {
  const tokens = parsePointer(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, false), 1);
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, key)) delete parent[key];
  else throw missing(path);
  return doc;
};

export const applyJsonPatch = (target: Doc, ops: unknown): Doc => {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest('json patch operation needs "op" and "path"');
    const op = raw as { op: string; path: string; value?: Doc; from?: string };
    switch (op.op) {
      case 'add': doc = addAt(doc, op.path, op.value); break;
      case 'remove': doc = removeAt(doc, op.path); break;
      case 'replace': getAt(doc, op.path); doc = removeAt(doc, op.path); doc = addAt(doc, op.path, op.value); break;
      case 'move': {
        const v = getAt(doc, op.from ?? '');
        doc = removeAt(doc, op.from ?? '');
        doc = addAt(doc, op.path, v);
        break;
      }
      case 'copy': doc = addAt(doc, op.path, getAt(doc, op.from ?? '')); break;
      case 'test':
        if (!isDeepStrictEqual(getAt(doc, op.path), op.value)) {
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${op.path} failed`);
        }
        break;
      default: throw badRequest(`unexpected json patch operation "${op.op}"`);
    }
  }
  return doc;
};

// ---- RFC 7386 ----

export const applyMergePatch = (target: Doc, patch: Doc): Doc => {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
};

// ---- strategic merge patch ----

/**
 * patchMergeKey per list field name (k8s.io/api/core/v1/types.go tags). Lists not named
 * here are atomic and are replaced, as in Kubernetes; notably pod spec.tolerations and
 * node spec.taints have no patch strategy and are replaced whole.
 */
export const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  conditions: 'type',
  addresses: 'type',
  ownerReferences: 'uid',
  podIPs: 'ip',
  hostIPs: 'ip',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resizePolicy: 'resourceName',
};
/** Lists of scalars with patchStrategy "merge": the union is kept. */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

const mergeList = (field: string, target: unknown[], patch: unknown[]): unknown[] => {
  const key = MERGE_KEYS[field];
  if (MERGED_SCALAR_LISTS.has(field)) {
    const out = [...target];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  if (!key) return clone(patch.filter((p) => !(isObject(p) && p.$patch !== undefined)));
  // A `{$patch: replace}` element replaces the whole list with the other elements.
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return clone(patch.filter((p) => !(isObject(p) && p.$patch === 'replace')));
  }
  const out = clone(target);
  for (const p of patch) {
    if (!isObject(p)) continue;
    const idx = out.findIndex((t) => isObject(t) && t[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], p);
    else out.push(strategicMerge({}, p));
  }
  return out;
};

export const applyStrategicMergePatch = (target: Doc, patch: Doc): Doc => strategicMerge(target, patch);

function strategicMerge(target: Doc, patch: Doc): Doc {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  return out;
}
