/**
 * The HTTP edge: URL routing to resources and verbs, bodies, content types, and errors
 * as Status bodies. Paths follow the API's REST layout
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris):
 *   /api/v1/RESOURCE[/NAME[/SUB]]                      (cluster-scoped, or all namespaces)
 *   /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]]        (namespaced)
 *   /apis/GROUP/VERSION/...                            (the same under a group)
 * Verbs: GET item = get; GET collection = list, or watch with ?watch=true; POST = create
 * (or binding/eviction on a pod); PUT = update; PATCH = patch; DELETE = delete /
 * deletecollection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api, DeleteOptions } from './api.ts';
import { openapiV3Doc, openapiV3Index } from './openapi.ts';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.ts';
import type { Faults, RequestRecord } from './faults.ts';
import type { ResourceDef } from './resources.ts';
import { ApiError, badRequest, invalid, methodNotAllowed, notFound } from './status.ts';
import { podLogTail } from '../src/core/kube-model/kubelet.ts';
import { toTable, wantsTable } from './tables.ts';
import type { KubeObject } from './types.ts';
import type { WatchHub } from './watch.ts';

const MAX_BODY = 3 * 1024 * 1024; // kube-apiserver's default request size limit

export interface HttpContext {
  api: Api;
  watches: WatchHub;
  faults: Faults;
  log: RequestRecord[];
  serverAddress: () => string;
  /** pods/log: the kubelet model's log of a container (an Error: 400 with its message). */
  podLog: (pod: KubeObject, container: string | undefined) => string | Error;
}

const sendText = (res: ServerResponse, text: string): void => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
};

/** GET pods/NAME/log with container, tailLines and limitBytes (PodLogOptions); follow and timestamps are not modelled. */
function podLogText(ctx: HttpContext, pod: KubeObject, q: URLSearchParams): string {
  const log = ctx.podLog(pod, q.get('container') ?? undefined);
  if (log instanceof Error) throw badRequest(log.message);
  const r = podLogTail(log, { tailLines: intParam(q.get('tailLines')), limitBytes: intParam(q.get('limitBytes')) });
  if (!r.ok) throw invalid('PodLogOptions', '', pod.metadata.name ?? '', [{ reason: 'FieldValueInvalid', field: r.field, message: r.error }]);
  return r.value;
}

interface Route {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  sub?: string;
}

const sendJson = (res: ServerResponse, code: number, body: unknown): void => {
  if (res.headersSent) {
    res.end();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-cache, private' });
  res.end(data);
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const parseJson = (text: string): unknown => {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
};

/** Maps the path after /api/v1 or /apis/G/V to a resource, namespace, name and subresource. */
const route = (api: Api, group: string, version: string, segs: string[]): Route | undefined => {
  const lookup = (plural: string | undefined): ResourceDef | undefined => (plural ? api.table.lookup(group, version, plural) : undefined);
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    const def = lookup(segs[2]);
    if (def?.namespaced) {
      return { def, namespace: segs[1] ?? '', ...(segs[3] ? { name: segs[3] } : {}), ...(segs[4] ? { sub: segs[4] } : {}) };
    }
  }
  const def = lookup(segs[0]);
  if (!def || segs.length > 3) return undefined;
  return { def, ...(segs[1] ? { name: segs[1] } : {}), ...(segs[2] ? { sub: segs[2] } : {}) };
};

const boolParam = (v: string | null): boolean => v === 'true' || v === '1';
const intParam = (v: string | null): number | undefined => {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid integer "${v}"`);
  return n;
};

/** List items of built-in kinds carry no apiVersion/kind on the wire; custom resources' items do. */
const listItem = (def: ResourceDef, o: KubeObject): KubeObject => {
  if (!def.strategicMerge) return o;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KubeObject;
};

export const handle = async (ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://localhost');
  const record: RequestRecord = { method, path: url.pathname + url.search, code: 0, watch: false };
  ctx.log.push(record);
  res.on('finish', () => { if (!record.code) record.code = res.statusCode; });
  try {
    if (ctx.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.latencyMs));
    const fault = ctx.faults.take(method, url.pathname);
    if (fault) throw fault;
    await dispatch(ctx, req, res, method, url, record);
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
    record.code = err.code;
    sendJson(res, err.code, err.toStatus());
  }
};

const dispatch = async (ctx: HttpContext, req: IncomingMessage, res: ServerResponse, method: string, url: URL, record: RequestRecord): Promise<void> => {
  const { api } = ctx;
  const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const q = url.searchParams;

  // ---- discovery ----
  if (method === 'GET') {
    const p = url.pathname.replace(/\/$/, '');
    if (p === '/version') return sendJson(res, 200, versionInfo());
    if (p === '/api') return sendJson(res, 200, apiVersions(ctx.serverAddress()));
    if (p === '/apis') return sendJson(res, 200, apiGroupList(api.table));
    if (p === '/healthz' || p === '/readyz' || p === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (p === '/openapi/v3') return sendJson(res, 200, openapiV3Index(api.table));
    if (segs[0] === 'openapi' && segs[1] === 'v3') {
      const doc = openapiV3Doc(api.table, segs.slice(2).join('/'));
      if (doc) return sendJson(res, 200, doc);
    }
    if (segs[0] === 'api' && segs.length === 2) {
      const doc = apiResourceList(api.table, '', segs[1] ?? '');
      if (doc) return sendJson(res, 200, doc);
    }
    if (segs[0] === 'apis' && segs.length === 2) {
      const doc = apiGroupDoc(api.table, segs[1] ?? '');
      if (doc) return sendJson(res, 200, doc);
    }
    if (segs[0] === 'apis' && segs.length === 3) {
      const doc = apiResourceList(api.table, segs[1] ?? '', segs[2] ?? '');
      if (doc) return sendJson(res, 200, doc);
    }
  }

  // ---- resources ----
  let group = '';
  let version = '';
  let rest: string[] = [];
  if (segs[0] === 'api' && segs.length >= 3) {
    version = segs[1] ?? '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1] ?? '';
    version = segs[2] ?? '';
    rest = segs.slice(3);
  } else {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  // Legacy watch paths: /api/v1/watch/... mean ?watch=true.
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  const r = route(api, group, version, rest);
  if (!r) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  const { def } = r;
  const ns = def.namespaced ? r.namespace : undefined;
  if (!def.namespaced && r.namespace !== undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  if (r.sub && !def.subresources.includes(r.sub as never)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  const isWatch = watchPath || boolParam(q.get('watch'));
  const verb = !r.name
    ? ({ GET: isWatch ? 'watch' : 'list', POST: 'create', DELETE: 'deletecollection' } as Record<string, string>)[method]
    : ({ GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method];
  Object.assign(record, {
    ...(verb ? { verb } : {}), apiGroup: def.group, resource: def.plural,
    ...(r.sub ? { subresource: r.sub } : {}), ...(ns !== undefined ? { namespace: ns } : {}), ...(r.name ? { name: r.name } : {}),
  });
  const dryRun = q.getAll('dryRun').includes('All');
  const accept = req.headers.accept;
  const table = wantsTable(accept);
  const encodeOne = (o: KubeObject): unknown => (table ? toTable(def, [o], api.clock, o.metadata.resourceVersion ?? '') : o);

  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
  const jsonBody = async (): Promise<unknown> => {
    const text = await readBody(req);
    if (contentType !== 'application/json' && contentType !== '*/*') {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${contentType})`);
    }
    return parseJson(text);
  };

  if (!r.name) {
    switch (method) {
      case 'GET': {
        if (isWatch) {
          record.watch = true;
          ctx.watches.serve(def, ns, {
            resourceVersion: q.get('resourceVersion'),
            resourceVersionMatch: q.get('resourceVersionMatch'),
            labelSelector: q.get('labelSelector'),
            fieldSelector: q.get('fieldSelector'),
            allowWatchBookmarks: boolParam(q.get('allowWatchBookmarks')),
            sendInitialEvents: boolParam(q.get('sendInitialEvents')),
            ...(intParam(q.get('timeoutSeconds')) !== undefined ? { timeoutSeconds: intParam(q.get('timeoutSeconds')) ?? 0 } : {}),
          }, res, (o, type) => (table && type !== 'BOOKMARK' ? toTable(def, [o], api.clock, o.metadata.resourceVersion ?? '') : o));
          record.code = 200;
          return;
        }
        const list = api.list(def, ns, {
          labelSelector: q.get('labelSelector'),
          fieldSelector: q.get('fieldSelector'),
          resourceVersion: q.get('resourceVersion'),
          resourceVersionMatch: q.get('resourceVersionMatch'),
          limit: intParam(q.get('limit')) ?? null,
          continue: q.get('continue'),
        });
        if (table) return sendJson(res, 200, toTable(def, list.items, api.clock, list.resourceVersion, list.continue));
        return sendJson(res, 200, {
          kind: `${def.kind}List`,
          apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
          metadata: {
            resourceVersion: list.resourceVersion,
            ...(list.continue ? { continue: list.continue } : {}),
            ...(list.remainingItemCount !== undefined ? { remainingItemCount: list.remainingItemCount } : {}),
          },
          items: list.items.map((o) => listItem(def, o)),
        });
      }
      case 'POST': {
        const created = await api.create(def, ns, await jsonBody(), { dryRun });
        return sendJson(res, 201, encodeOne(created));
      }
      case 'DELETE': {
        const body = (await jsonBody()) as DeleteOptions | undefined;
        const grace = intParam(q.get('gracePeriodSeconds'));
        const list = await api.deleteCollection(def, ns, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') }, {
          ...(body ?? {}), ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), ...(dryRun ? { dryRun: ['All'] } : {}),
        });
        return sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, metadata: { resourceVersion: list.resourceVersion }, items: list.items });
      }
      default:
        throw methodNotAllowed();
    }
  }

  const name = r.name;
  if (watchPath && method === 'GET' && !r.sub) {
    // Legacy /watch/.../NAME: a watch on one object, i.e. a fieldSelector on metadata.name.
    record.watch = true;
    ctx.watches.serve(def, ns, {
      resourceVersion: q.get('resourceVersion'),
      fieldSelector: `metadata.name=${name}`,
      allowWatchBookmarks: boolParam(q.get('allowWatchBookmarks')),
    }, res, (o) => o);
    record.code = 200;
    return;
  }
  const sub = r.sub ?? '';
  switch (method) {
    case 'GET':
      if (sub === 'binding' || sub === 'eviction') throw methodNotAllowed();
      if (sub === 'scale') return sendJson(res, 200, api.scaleOf(def, api.get(def, ns, name)));
      if (sub === 'log') return sendText(res, podLogText(ctx, api.get(def, ns, name), q));
      return sendJson(res, 200, encodeOne(api.get(def, ns, name)));
    case 'POST': {
      if (def.kind === 'Pod' && sub === 'binding') return sendJson(res, 201, await api.bind(ns ?? '', name, await jsonBody()));
      if (def.kind === 'Pod' && sub === 'eviction') return sendJson(res, 201, await api.evict(ns ?? '', name, await jsonBody()));
      throw methodNotAllowed();
    }
    case 'PUT': {
      const updated = await api.update(def, ns, name, await jsonBody(), { dryRun, subResource: sub });
      return sendJson(res, 200, sub === 'scale' ? updated : encodeOne(updated));
    }
    case 'PATCH': {
      const text = await readBody(req);
      const patched = await api.patch(def, ns, name, req.headers['content-type'] ?? '', parseJson(text), { dryRun, subResource: sub });
      return sendJson(res, 200, sub === 'scale' ? patched : encodeOne(patched));
    }
    case 'DELETE': {
      if (sub) throw methodNotAllowed();
      const body = (await jsonBody()) as DeleteOptions | undefined;
      if (body !== undefined && (typeof body !== 'object' || body === null)) throw badRequest('DeleteOptions must be an object');
      const grace = intParam(q.get('gracePeriodSeconds'));
      const opts: DeleteOptions = {
        ...(body ?? {}),
        ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
        ...(q.get('propagationPolicy') ? { propagationPolicy: q.get('propagationPolicy') ?? '' } : {}),
        ...(dryRun ? { dryRun: ['All'] } : {}),
      };
      const out = await api.delete(def, ns, name, opts);
      return sendJson(res, 200, (out as KubeObject).metadata && (out as { kind?: string }).kind !== 'Status' ? encodeOne(out as KubeObject) : out);
    }
    default:
      throw notFound(def.group, def.plural, name);
  }
};
