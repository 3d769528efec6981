/**
 * A loopback HTTP proxy in front of a test registry that injects faults, so tests see
 * what a user sees when a registry misbehaves.
 *
 *   const proxy = await startFaultProxy(reg.port);
 *   proxy.fault({ path: /manifests\/1\.4$/, times: 2, status: 503 });          // 503 twice, then pass
 *   proxy.fault({ path: /manifests/, status: 429, retryAfter: '1' });          // once (times defaults to 1)
 *   proxy.fault({ path: /manifests/, action: 'malformed-json' });  // body not JSON, digest header made to match
 *   proxy.fault({ path: /manifests/, action: 'oversized', bytes: 5 << 20 });
 *   proxy.fault({ path: /manifests/, action: 'corrupt' });         // one byte changed, digest header kept
 *   proxy.fault({ path: /manifests/, action: 'schema1' });
 *   proxy.fault({ path: /manifests/, action: 'hang' });            // never answers (timeouts)
 *   proxy.fault({ path: /manifests/, action: 'reset' });           // connection dropped
 *   proxy.fault({ path: /manifests/, action: 'drip' });            // the real answer, one byte a second
 *   proxy.paginateTags(2);  // serve tags/list in pages of 2 with Link headers (distribution
 *                           // 2.8 ignores `n` for tags; newer registries paginate)
 *   proxy.host  // "127.0.0.1:PORT"
 *   proxy.log   // [{ method, path, status }] of every request
 *   await proxy.stop();
 *
 * A fault with `times: Infinity` stays; `proxy.clear()` removes all faults.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultAction = 'malformed-json' | 'oversized' | 'corrupt' | 'schema1' | 'hang' | 'reset' | 'drip';

export interface Fault {
  path: RegExp;
  method?: string;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** Answer with this status and an OCI error body instead of forwarding. */
  status?: number;
  retryAfter?: string;
  action?: FaultAction;
  /** Body size for `oversized` (default 5 MiB). */
  bytes?: number;
  /** Gap between bytes for `drip` (default 1000 ms). */
  dripMs?: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  readonly log: { method: string; path: string; status: number }[];
  /** Per `drip` answer: bytes sent so far of how many, and whether the client went away before the end. */
  readonly drips: { path: string; sent: number; total: number; abandoned: boolean }[];
  fault(f: Fault): void;
  clear(): void;
  paginateTags(pageSize: number | undefined): void;
  stop(): Promise<void>;
}

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const faults: (Fault & { left: number })[] = [];
  const log: FaultProxy['log'] = [];
  const drips: FaultProxy['drips'] = [];
  const sockets = new Set<Socket>();
  let tagPage: number | undefined;

  const take = (req: IncomingMessage): Fault | undefined => {
    const path = req.url ?? '/';
    const f = faults.find((x) => x.left > 0 && x.path.test(path) && (!x.method || x.method === req.method));
    if (f) f.left--;
    return f;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const fault = take(req);
    const entry = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    if (fault?.action === 'hang') return;
    if (fault?.action === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      const code = fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
      res.writeHead(fault.status, headers).end(JSON.stringify({ errors: [{ code, message: `injected ${fault.status}` }] }));
      return;
    }
    if (fault?.action === 'oversized') {
      const size = fault.bytes ?? 5 * 1024 * 1024;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.write('{"schemaVersion":2,"manifests":[],"pad":"');
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end('"}');
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
    if (fault?.action === 'schema1') {
      const body = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'team/app', tag: '1.4', architecture: 'amd64', fsLayers: [], history: [] }));
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'docker-content-digest': digestOf(body), 'content-length': body.length }).end(body);
      return;
    }

    const path = tagPage !== undefined && /\/tags\/list(\?|$)/.test(req.url ?? '') ? (req.url ?? '').split('?')[0] : req.url;
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` } },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          let body: Buffer = Buffer.concat(chunks);
          const headers = { ...up.headers };
          const tagList = /^\/v2\/(.+)\/tags\/list(\?.*)?$/.exec(req.url ?? '');
          if (tagPage !== undefined && tagList && up.statusCode === 200) {
            const q = new URLSearchParams(tagList[2]?.slice(1) ?? '');
            const n = Math.min(tagPage, Number(q.get('n') ?? tagPage) || tagPage);
            const last = q.get('last');
            const all = ((JSON.parse(body.toString()) as { tags?: string[] }).tags ?? []).sort();
            const rest = last ? all.filter((t) => t > last) : all;
            const page = rest.slice(0, n);
            body = Buffer.from(JSON.stringify({ name: tagList[1], tags: page }));
            if (rest.length > n) headers['link'] = `</v2/${tagList[1]}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1] ?? '')}>; rel="next"`;
          }
          if (fault?.action === 'malformed-json' && body.length > 0) {
            body = Buffer.from(body.subarray(0, Math.floor(body.length / 2)));
            headers['docker-content-digest'] = digestOf(body);
          } else if (fault?.action === 'corrupt' && body.length > 0) {
            // Change one character inside the JSON so it still parses but no longer hashes right.
            const copy = Buffer.from(body);
            const i = copy.indexOf('"schemaVersion"');
            copy[i >= 0 ? i + 1 : 0] = 'S'.charCodeAt(0);
            body = copy;
          }
          if (headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
          if (fault?.action === 'drip') {
            const drip = { path: req.url ?? '/', sent: 0, total: body.length, abandoned: false };
            drips.push(drip);
            res.writeHead(up.statusCode ?? 502, headers);
            const timer = setInterval(() => {
              if (drip.sent >= body.length) {
                clearInterval(timer);
                res.end();
                return;
              }
              res.write(body.subarray(drip.sent, drip.sent + 1));
              drip.sent++;
            }, fault.dripMs ?? 1000);
            res.on('close', () => {
              clearInterval(timer);
              if (drip.sent < body.length) drip.abandoned = true;
            });
            return;
          }
          res.writeHead(up.statusCode ?? 502, headers).end(body);
        });
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    host: `127.0.0.1:${port}`,
    port,
    log,
    drips,
    fault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    clear: () => {
      faults.length = 0;
    },
    paginateTags: (n) => {
      tagPage = n;
    },
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
