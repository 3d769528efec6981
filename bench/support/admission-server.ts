/**
 * The server under load for bench/admission.bench.ts, in a process of its own so that
 * process.cpuUsage() counts the server and not the load generator. Serves the webhook,
 * the extender and a no-op route (the baseline: same plumbing, no polyarch logic), and
 * answers `cpu` messages with its CPU time and the service time of each request it
 * finished since the last one (from the request's arrival to its response's end, taken
 * from node:http's diagnostics channels: what the server itself spends, without the
 * load generator's own waiting).
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { Extender } from '../../src/app/extender.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import type { Node } from '../../src/core/k8s/types.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { extenderRoutes } from '../../src/server/extender.ts';
import { startServer, type JsonRoute } from '../../src/server/http-server.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { webhookRoute } from '../../src/server/webhook.ts';
import { SimCluster } from '../../src/sim/cluster.ts';
import { makeNode } from '../../test/builders/node.ts';
import { MemoryResolver } from '../../test/support/memory-resolver.ts';

export const ARCHES = ['amd64', 'arm64', 'riscv64', 'loong64'] as const;

const resolver = new MemoryResolver()
  .add('example.com/shop/web:1.4', ['linux/amd64', 'linux/arm64', 'linux/riscv64'])
  .add('example.com/mesh/proxy:2.0', ['linux/amd64', 'linux/arm64', 'linux/loong64', 'linux/riscv64']);
const cluster = new SimCluster(systemClock, Date.now());
for (let i = 0; i < 100; i++) cluster.addNode(makeNode(`n${i}`).arch(ARCHES[i % ARCHES.length] ?? 'amd64').build() as Node);
const metrics = createMetrics({ defaultMetrics: false });
const noop: JsonRoute = { path: '/noop', name: 'noop', refuse: (r) => ({ status: r.status, body: { error: r.message } }), handle: async () => ({ status: 200, body: { ok: true } }) };
const extender = new Extender({ resolver, cluster, clock: systemClock, deadlineMs: 2000, preferences: [{ architecture: 'arm64', weight: 60 }] });
const server = await startServer({
  listen: '127.0.0.1:0', metrics, log: silentLogger, bodyLimit: 1 << 20,
  routes: [noop, webhookRoute({ resolver, preferences: [{ architecture: 'arm64', weight: 60 }], skipNamespaces: ['kube-system'] }, metrics, silentLogger), ...extenderRoutes(extender, metrics, silentLogger)],
});
const arrived = new WeakMap<IncomingMessage, number>();
let serviceMs: number[] = [];
subscribe('http.server.request.start', (m) => arrived.set((m as { request: IncomingMessage }).request, performance.now()));
subscribe('http.server.response.finish', (m) => {
  const t = arrived.get((m as { request: IncomingMessage }).request);
  if (t !== undefined) serviceMs.push(performance.now() - t);
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'cpu') {
    process.send?.({ type: 'cpu', usage: process.cpuUsage(), at: process.hrtime.bigint().toString(), serviceMs });
    serviceMs = [];
  }
  if (m.type === 'stop') void server.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', url: server.url });
