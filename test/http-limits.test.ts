// Issue 15 item 5: the extender and webhook server bounds how long a client may take to
// send its headers and its body and how many connections it holds; a hostile name is
// refused without being echoed; the plain-HTTP warning is given only where it is true.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Extender } from '../src/app/extender.ts';
import type { Node } from '../src/core/k8s/types.ts';
import { extenderRoutes } from '../src/server/extender.ts';
import { startServer, type RunningServer, type ServerOptions } from '../src/server/http-server.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { SimCluster } from '../src/sim/cluster.ts';
import { makeNode } from './builders/node.ts';
import { RecordingLogger } from './kube/helpers.ts';
import { MemoryResolver } from './support/memory-resolver.ts';
import { realClock } from './support/real-clock.ts';

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

const cluster = new SimCluster(realClock, Date.now());
cluster.addNode(makeNode('n1').arch('amd64').build() as Node);
const extender = new Extender({ resolver: new MemoryResolver(), cluster, clock: realClock, deadlineMs: 200, preferences: [] });

async function serve(log = new RecordingLogger(), extra: Partial<ServerOptions> = {}): Promise<{ server: RunningServer; log: RecordingLogger }> {
  const metrics = createMetrics({ defaultMetrics: false });
  const server = await startServer({ listen: '127.0.0.1:0', bodyLimit: 1 << 21, routes: extenderRoutes(extender, metrics, log), metrics, log, ...extra });
  servers.push(server);
  return { server, log };
}

/** A raw connection that records what the server sent and when it closed. */
async function open(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.on('data', (b: Buffer) => (text += b.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, received: () => text, closed };
}

/** Writes `text` a byte at a time every `everyMs` until the connection closes; returns the bytes written. */
async function trickle(socket: Socket, text: string, closed: Promise<void>, everyMs = 100): Promise<number> {
  let done = false;
  void closed.then(() => (done = true));
  let i = 0;
  for (; i < text.length && !done; i++) {
    socket.write(text[i]!);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return i;
}

describe('slow clients', () => {
  it('a body sent a byte at a time is cut at the request deadline, long before it is complete', async () => {
    const { server } = await serve(undefined, { requestTimeoutMs: 1000 });
    const body = JSON.stringify({ PodName: 'p', PodNamespace: 'default', PodUID: '', Node: 'n1' }).padEnd(400, ' ');
    const c = await open(server.port);
    c.socket.write(`POST /extender/bind HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    const sent = await trickle(c.socket, body, c.closed);
    await c.closed;
    expect(sent).toBeLessThan(body.length);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 60_000);

  it('headers sent a byte at a time are cut the same way', async () => {
    const { server } = await serve(undefined, { requestTimeoutMs: 1000 });
    const head = `POST /extender/filter HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-padding: ${'p'.repeat(300)}\r\n\r\n`;
    const c = await open(server.port);
    const sent = await trickle(c.socket, head, c.closed);
    await c.closed;
    expect(sent).toBeLessThan(head.length);
  }, 60_000);

  it('connections over the cap are refused at accept; those within it are served', async () => {
    const { server } = await serve(undefined, { maxConnections: 2 });
    const held = [await open(server.port), await open(server.port)];
    const extra = await open(server.port);
    await extra.closed; // dropped by the server, without an answer
    expect(extra.received()).toBe('');
    for (const h of held) {
      h.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
      await new Promise<void>((resolve) => {
        const check = (): void => (h.received().includes('\r\n\r\nok') ? resolve() : void h.socket.once('data', check));
        check();
      });
      expect(h.received()).toMatch(/^HTTP\/1\.1 200 /);
    }
  });
});

describe('answers and logs', () => {
  it('/extender/bind refuses a 1 MB pod name without echoing it into the answer or the log', async () => {
    const { server, log } = await serve();
    const huge = 'x'.repeat(1 << 20);
    const res = await fetch(`${server.url}/extender/bind`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ PodName: huge, PodNamespace: 'default', PodUID: '', Node: 'n1' }) });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ Error: expect.stringMatching(/^ExtenderBindingArgs: PodName: Too big/) });
    expect(text.length).toBeLessThan(300);
    expect(log.text().length).toBeLessThan(10_000);
  });

  it('warns of plain HTTP only on a server whose callers need HTTPS', async () => {
    const plain = await serve(new RecordingLogger(), { expectTls: true, listenFlag: '--admission-listen' });
    expect(plain.log.lines.filter((l) => /plain HTTP/.test(l.message))).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^no --tls-cert-file: serving plain HTTP on --admission-listen/) })]);
    const health = await serve(new RecordingLogger());
    expect(health.log.lines.filter((l) => /plain HTTP/.test(l.message))).toEqual([]);
  });
});
