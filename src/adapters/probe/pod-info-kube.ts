/**
 * The pods of one node from the Kubernetes API: a list with fieldSelector spec.nodeName,
 * served from the API server's watch cache (resourceVersion=0), refreshed at most every
 * `refreshMs` (the probe samples every few seconds; readiness changes are needed to the
 * warm-up's precision, not the sample's). One plain GET (node:http/https), so the probe
 * does not load the generated client (see adapters/kube/api-access.ts).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ApiAccess } from '../kube/api-access.ts';
import type { Clock } from '../../ports/clock.ts';
import type { PodInfoResult, PodInfoSource } from '../../ports/pod-info.ts';
import { podInfoFromPodList } from './pod-list.ts';

export interface KubePodInfoOptions {
  readonly access: ApiAccess;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly refreshMs?: number;
  /** Each list's deadline (default 30 s): a request caught in an API server restart must not hang the probe. */
  readonly timeoutMs?: number;
}

class HttpStatusError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** GET `url` and parse the JSON body; a non-2xx answer throws HttpStatusError with the Status message. */
async function getJson(access: ApiAccess, url: URL, signal: AbortSignal): Promise<unknown> {
  const options = await access.requestOptions();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(url, { ...options, method: 'GET', headers: { ...options.headers, accept: 'application/json' }, signal }, resolve);
    req.once('error', reject);
    req.end();
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const code = res.statusCode ?? 0;
  if (code < 200 || code > 299) {
    let message = text.split('\n')[0] ?? '';
    try {
      const status = JSON.parse(text) as { message?: unknown };
      if (typeof status.message === 'string') message = status.message;
    } catch {
      // not a Status object: the first line of the body
    }
    throw new HttpStatusError(code, message);
  }
  return JSON.parse(text);
}

export function kubePodInfoSource(options: KubePodInfoOptions): PodInfoSource {
  const refreshMs = options.refreshMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const source = `kubernetes API ${options.access.server} (pods on node ${options.nodeName})`;
  const url = new URL('/api/v1/pods', options.access.server);
  url.searchParams.set('fieldSelector', `spec.nodeName=${options.nodeName}`);
  url.searchParams.set('resourceVersion', '0');
  let last: { at: number; result: PodInfoResult } | undefined;
  return {
    description: source,
    async list(signal?: AbortSignal) {
      const now = options.clock.now();
      if (last && last.result.ok && now - last.at < refreshMs) return last.result;
      let result: PodInfoResult;
      try {
        const deadline = AbortSignal.timeout(timeoutMs);
        const list = await getJson(options.access, url, signal ? AbortSignal.any([signal, deadline]) : deadline);
        result = podInfoFromPodList(list, { source, nodeName: options.nodeName });
      } catch (err) {
        const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
        result = err instanceof HttpStatusError
          ? { ok: false, error: { kind: 'other', message: `${source}: HTTP ${err.code}: ${message}` } }
          : { ok: false, error: { kind: 'unreachable', message: `${source}: ${message}` } };
      }
      last = { at: now, result };
      return result;
    },
  };
}
