/**
 * The node probe over HTTP: GET /windows (JSON for the autoscaler), GET /metrics (Prometheus
 * text for people), GET /healthz, and POST /reclaim (proactive memory reclaim, cgroup v2).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import type { NodeProbe } from '../ports/node-probe.ts';
import type { MetricWindow, ReclaimResult, WindowsReport } from '../core/probe/report.ts';

export interface ProbeServerOptions {
  readonly probe: NodeProbe;
  readonly host?: string;
  readonly port: number;
  /**
   * POST /reclaim needs `Authorization: Bearer <token>`; without a token there is no
   * reclaim endpoint at all (404): the probe listens on the node's address, and an open
   * reclaim would let anyone who reaches the node squeeze any container's memory.
   */
  readonly reclaimToken?: string;
}

export interface ProbeServer {
  readonly url: string;
  close(): Promise<void>;
}

const reclaimBody = z.object({
  podUid: z.string().min(1),
  container: z.string().min(1).optional(),
  bytes: z.number().int().positive(),
});

const MAX_BODY = 4096;

const STATUS_OF: Readonly<Record<Extract<ReclaimResult, { ok: false }>['kind'], number>> = {
  unsupported: 501,
  disabled: 403,
  'not-found': 404,
  gone: 410,
  partial: 409,
  'read-only': 409,
  denied: 403,
  invalid: 400,
  error: 500,
};

export function probeMetrics(probe: NodeProbe): { registry: Registry; reclaims: Counter<'result'>; reclaimedBytes: Counter } {
  const registry = new Registry();
  // One report per scrape, not one per metric family (each builds the whole report).
  let cached: { at: number; report: WindowsReport } | undefined;
  const report = (): WindowsReport => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) cached = { at: now, report: probe.windows() };
    return cached.report;
  };
  const labels = ['namespace', 'pod', 'container', 'metric', 'basis'] as const;
  const set = (g: Gauge<(typeof labels)[number]>, pick: (w: MetricWindow) => number | undefined): void => {
    g.reset();
    for (const p of report().pods) {
      const base = { namespace: p.namespace ?? '', pod: p.name ?? p.uid };
      const put = (container: string, metric: string, w: MetricWindow | undefined): void => {
        const v = w === undefined ? undefined : pick(w);
        if (w !== undefined && v !== undefined && Number.isFinite(v)) g.set({ ...base, container, metric, basis: w.basis.kind }, v);
      };
      put('', 'net', p.net);
      for (const c of p.containers) {
        put(c.name, 'cpu', c.metrics.cpu);
        put(c.name, 'mem', c.metrics.mem);
        put(c.name, 'disk', c.metrics.disk);
      }
    }
  };
  new Gauge({
    name: 'polyarch_probe_utilisation_ratio',
    help: 'Maximum utilisation in the last closed minute (usage / basis; basis = limit, request or node capacity).',
    labelNames: labels,
    registers: [registry],
    collect() {
      set(this, (w) => w.utilisation.at(-1));
    },
  });
  new Gauge({
    name: 'polyarch_probe_usage',
    help: 'Last sample: CPU in cores, memory (working set) in bytes, disk and network in bytes per second.',
    labelNames: labels,
    registers: [registry],
    collect() {
      set(this, (w) => w.current);
    },
  });
  new Gauge({
    name: 'polyarch_probe_window_minutes',
    help: 'Closed minutes held in the usage window (up to 60).',
    labelNames: labels,
    registers: [registry],
    collect() {
      set(this, (w) => w.utilisation.length);
    },
  });
  new Gauge({
    name: 'polyarch_probe_containers',
    help: 'Containers read in the last sample.',
    registers: [registry],
    collect() {
      this.set(report().lastSample?.containers ?? 0);
    },
  });
  new Gauge({
    name: 'polyarch_probe_read_errors',
    help: 'Files that could not be read or parsed in the last sample.',
    registers: [registry],
    collect() {
      this.set(report().errors.length);
    },
  });
  const reclaims = new Counter({ name: 'polyarch_probe_reclaims_total', help: 'Proactive reclaim requests by result.', labelNames: ['result'] as const, registers: [registry] });
  const reclaimedBytes = new Counter({ name: 'polyarch_probe_reclaimed_bytes_total', help: 'Bytes by which memory.current fell across successful reclaims.', registers: [registry] });
  return { registry, reclaims, reclaimedBytes };
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : String(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const { probe } = options;
  const { registry, reclaims, reclaimedBytes } = probeMetrics(probe);
  const token = options.reclaimToken === '' ? undefined : options.reclaimToken;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    if (path === '/windows' || path === '/healthz' || path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${req.method} not allowed on ${path}` });
      if (path === '/windows') return send(res, 200, probe.windows());
      if (path === '/metrics') return send(res, 200, await registry.metrics(), registry.contentType);
      const h = probe.health();
      return send(res, h.ok ? 200 : 503, `${h.ok ? 'ok' : 'unhealthy'}: ${h.message}\n`, 'text/plain; charset=utf-8');
    }
    if (path === '/reclaim') {
      if (token === undefined) return send(res, 404, { error: 'no route /reclaim: the probe serves it only with a token ($POLYARCH_PROBE_TOKEN) and --allow-reclaim' });
      if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
      if (!bearerMatches(req.headers.authorization, token)) return send(res, 401, { error: 'missing or wrong bearer token' });
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return send(res, 415, { error: 'content-type must be application/json' });
      const text = await readBody(req);
      if (text === undefined) return send(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return send(res, 400, { error: 'body is not JSON' });
      }
      const parsed = reclaimBody.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return send(res, 400, { error: `${issue.path.join('.') || '(body)'}: ${issue.message}` });
      }
      const result = probe.reclaim({ podUid: parsed.data.podUid, bytes: parsed.data.bytes, ...(parsed.data.container ? { container: parsed.data.container } : {}) });
      reclaims.inc({ result: result.ok ? 'ok' : result.kind });
      if (result.ok) {
        if (result.before > result.after) reclaimedBytes.inc(result.before - result.after);
        return send(res, 200, result);
      }
      return send(res, STATUS_OF[result.kind], result);
    }
    return send(res, 404, { error: `no route ${path}; try /windows, /metrics, /healthz${token === undefined ? '' : ', POST /reclaim'}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
