/**
 * The fake API server (fake-apiserver/) in a process of its own, for bench/kube.bench.ts:
 * a real kube-apiserver is a process apart from the scheduler, so the scheduler's CPU and
 * the server's overlap, and process.cpuUsage() tells the server's share from the client's.
 * Plain HTTP on 127.0.0.1 (the fake server has no TLS), a free port.
 *
 * argv[2]: FakeApiServerOptions as JSON. IPC messages, each answered with the same `type`:
 * - `seed` { objects }: stores them as given (FakeApiServer.seed);
 * - `cpu`: this process's CPU time (process.cpuUsage) and how many requests it has served;
 * - `requests` { from }: the request log from that index on;
 * - `profile` { name } / `profile-end`: a CPU profile of the window between them (BENCH_CPU_PROF=DIR);
 * - `close`: closes the server and exits.
 * Sends `ready` { url } once listening.
 */
import { profileWindow } from './profile.ts';
import { FakeApiServer, type FakeApiServerOptions, type KubeObject } from '../../fake-apiserver/index.ts';

export type ServerMessage =
  | { type: 'seed'; objects: KubeObject[] }
  | { type: 'cpu' }
  | { type: 'requests'; from: number }
  | { type: 'profile'; name: string }
  | { type: 'profile-end' }
  | { type: 'close' };

const options = JSON.parse(process.argv[2] ?? '{}') as FakeApiServerOptions;
const server = await FakeApiServer.start(options);
let profiled = (): Promise<void> => Promise.resolve();

process.on('message', (m: ServerMessage) => {
  switch (m.type) {
    case 'seed':
      server.seed(...m.objects);
      process.send?.({ type: 'seed' });
      return;
    case 'cpu':
      process.send?.({ type: 'cpu', usage: process.cpuUsage(), served: server.requests.length });
      return;
    case 'requests':
      process.send?.({ type: 'requests', requests: server.requests.slice(m.from) });
      return;
    case 'profile':
      void profileWindow(m.name).then((end) => {
        profiled = end;
        process.send?.({ type: 'profile' });
      });
      return;
    case 'profile-end':
      void profiled().then(() => process.send?.({ type: 'profile-end' }));
      return;
    case 'close':
      void server.close().then(() => process.exit(0));
      return;
  }
});
process.send?.({ type: 'ready', url: server.url });
