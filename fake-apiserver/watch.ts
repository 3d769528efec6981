/**
 * Watch streams (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 * a chunked HTTP 200 response of newline-delimited JSON WatchEvents {type, object}.
 * - resourceVersion unset or "0": synthetic ADDED events for the current objects first
 *   ("Get State and Start at Most Recent" / "at Any"), then changes;
 * - resourceVersion N: every change after N; if N is older than the history, one ERROR
 *   event carrying a Status 410 Expired ("too old resource version") and the stream ends —
 *   kube-apiserver's watch cache answers this way rather than with an HTTP 410;
 * - sendInitialEvents=true (streaming lists, resourceVersionMatch=NotOlderThan): the
 *   synthetic ADDED events end with a BOOKMARK annotated k8s.io/initial-events-end;
 * - allowWatchBookmarks=true: periodic BOOKMARK events carrying only metadata.resourceVersion
 *   (https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks);
 * - with selectors, an object that stops matching is sent as DELETED and one that starts
 *   matching as ADDED, as the watch cache does;
 * - timeoutSeconds ends the stream.
 */
import type { ServerResponse } from 'node:http';
import type { Api } from './api.ts';
import type { ResourceDef } from './resources.ts';
import { groupVersion, resourceId } from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { ApiError } from './status.ts';
import type { Change } from './store.ts';
import type { KubeObject, WatchEventType } from './types.ts';

export interface WatchQuery {
  resourceVersion?: string | null;
  resourceVersionMatch?: string | null;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export class WatchHub {
  private readonly open = new Set<() => void>();

  constructor(private readonly api: Api, private readonly bookmarkIntervalMs: number) {}

  get count(): number {
    return this.open.size;
  }

  /** Ends every open watch, as a restarting or overloaded API server does; clients must re-watch. */
  dropAll(): number {
    const n = this.open.size;
    for (const end of [...this.open]) end();
    return n;
  }

  /**
   * Starts a watch on `res`. Selector errors throw before anything is written, so the
   * caller answers them with a normal error Status.
   */
  serve(def: ResourceDef, ns: string | undefined, q: WatchQuery, res: ServerResponse, encode: (o: KubeObject, type: WatchEventType) => unknown): void {
    const api = this.api;
    const labelSel = parseLabelSelector(q.labelSelector);
    const fieldSel = parseFieldSelector(q.fieldSelector, ['metadata.name', 'metadata.namespace', ...Object.keys(def.fieldSelectors)]);
    const id = resourceId(def);
    const scope = def.namespaced && ns ? ns : undefined;
    const match = (o: KubeObject | undefined): boolean =>
      !!o && (scope === undefined || o.metadata.namespace === scope) && api.matchesSelectors(def, o, labelSel, fieldSel);

    const rvParam = q.resourceVersion ?? '';
    if (rvParam !== '' && rvParam !== '0' && !/^\d+$/.test(rvParam)) throw new ApiError(400, 'BadRequest', `invalid resource version "${rvParam}"`);
    if (q.sendInitialEvents && q.resourceVersionMatch !== 'NotOlderThan') {
      throw new ApiError(422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    }

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let ended = false;
    const write = (type: WatchEventType, object: unknown): void => {
      if (!ended) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const send = (type: WatchEventType, o: KubeObject): void => write(type, encode(o, type));
    const bookmark = (annotations?: Record<string, string>): void => {
      write('BOOKMARK', encode({
        apiVersion: groupVersion(def), kind: def.kind,
        metadata: { resourceVersion: String(api.store.currentRv), ...(annotations ? { annotations } : {}) },
      }, 'BOOKMARK'));
    };

    const onChange = (c: Change): void => {
      if (c.resource !== id) return;
      const now = match(c.object);
      const before = c.type === 'ADDED' ? false : match(c.prev);
      if (c.type === 'DELETED') {
        if (before || now) send('DELETED', c.object);
      } else if (now && before) send('MODIFIED', c.object);
      else if (now) send('ADDED', c.object);
      else if (before) send('DELETED', c.object);
    };

    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = (): void => {};
    const end = (): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(end);
      res.end();
    };
    this.open.add(end);
    res.on('close', end);

    if (rvParam === '' || rvParam === '0' || q.sendInitialEvents) {
      // Synthetic ADDED events for the state the watch starts from.
      for (const o of api.store.scan(id, scope)) if (match(o)) send('ADDED', o);
      if (q.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      let backlog: Change[];
      try {
        backlog = api.store.changesSince(Number(rvParam));
      } catch (e) {
        if (e instanceof ApiError) {
          write('ERROR', e.toStatus());
          end();
          return;
        }
        throw e;
      }
      for (const c of backlog) onChange(c);
    }
    unsubscribe = api.store.subscribe(onChange);

    if (q.allowWatchBookmarks) {
      const tick = (): void => {
        bookmark();
        timers[0] = setTimeout(tick, this.bookmarkIntervalMs);
      };
      timers[0] = setTimeout(tick, this.bookmarkIntervalMs);
    }
    if (q.timeoutSeconds && q.timeoutSeconds > 0) timers.push(setTimeout(end, q.timeoutSeconds * 1000));
  }
}
