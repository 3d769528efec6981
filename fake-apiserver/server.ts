/**
 * A faithful, in-process fake kube-apiserver over real HTTP, for tests.
 *
 * Usage:
 *
 *   import { FakeApiServer } from '../fake-apiserver/index.ts' (from test/);
 *   import { CoreV1Api } from '@kubernetes/client-node';
 *
 *   const server = await FakeApiServer.start();                 // 127.0.0.1, random port
 *   server.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: {...} }); // stored as given
 *   const core = server.client(CoreV1Api);                       // the official client, over HTTP
 *   await core.createNamespacedPod({ namespace: 'default', body: pod });
 *   const kubeconfig = await server.writeKubeconfig();           // for kubectl --kubeconfig / loadFromFile
 *   server.faults.failNext(2, { path: '/pods', code: 500 });     // fault injection
 *   server.faults.setLatency(50);
 *   server.dropWatches();
 *   await server.restart({ keepState: false });                 // same port, state lost
 *   server.admission.register({ name: 'x', mutate: (req) => ... }); // webhook extension point
 *   server.controllers.stopKubelet('n1');                        // a node dies (with controllers on)
 *   server.requests                                              // every request, with verb/resource
 *   await server.close();
 *
 * Options: { controllers: 'all' | { replicaSet, deployment, statefulSet, garbageCollector, nodeLifecycle,
 * kubelet, disruption } } to run what a cluster would; { clock: new ManualClock() } to
 * move time by hand (then `await server.reconcile()`); see FakeApiServerOptions.
 * What is and is not modelled: README.md beside this file.
 */
import { createServer } from 'node:http';
import type { Server, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { AdmissionChain } from './admission.ts';
import { Api, seededRandom } from './api.ts';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { ControllerOptions, ControllerSwitches } from './controllers.ts';
import { Controllers } from './controllers.ts';
import { Faults } from './faults.ts';
import type { RequestRecord } from './faults.ts';
import { handle } from './http.ts';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts';
import type { ResourceDef } from './resources.ts';
import { BUILTIN_RESOURCES, ResourceTable, groupVersion } from './resources.ts';
import { Store } from './store.ts';
import type { KubeObject } from './types.ts';
import { WatchHub } from './watch.ts';

export interface FakeApiServerOptions {
  /** Port to listen on; 0 (default) picks a free one. The port is kept across restart(). */
  port?: number;
  /** Injected time for timestamps, graceful deletion and node lifecycle. Default: the system clock. */
  clock?: Clock;
  /** Seed for generated names and uids. */
  seed?: number;
  /** How many changes the watch history keeps; older resourceVersions are 410 Gone. Default 10,000 (etcd keeps about 5 minutes). */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them. Default 1000 ms (kube-apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  /** Cluster behaviour to run in-process; 'all' turns everything on. Default: none (a bare API server). */
  controllers?: Partial<ControllerSwitches> | 'all';
  /** How often time-based controller work runs on the system clock. Default 50 ms. */
  controllerIntervalMs?: number;
  /** Node lifecycle: how long a Lease may go unrenewed before the node is Unknown. Default 40 s (kube-controller-manager's node-monitor-grace-period). */
  nodeMonitorGracePeriodMs?: number;
  /**
   * Whether controllers run by themselves (after each change and every controllerIntervalMs).
   * false: they run only when the test calls `await server.reconcile()`, for step-by-step tests.
   */
  controllerAutoRun?: boolean;
  /** The kubelet model finishes graceful deletions after min(grace, this). Default: the full grace period. */
  podTerminationCapMs?: number;
  /** false: the kubelet model heartbeats in memory instead of writing Leases (many nodes, short grace). Default true. */
  kubeletLeases?: boolean;
  /** Resources served in addition to the built-in table. */
  resources?: ResourceDef[];
  /**
   * The kubelet model's images: platforms, and index entries whose binary is for another
   * platform (`binaries: { 'linux/arm64': 'linux/amd64' }`); see README "Cluster".
   */
  images?: ControllerOptions['images'];
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class FakeApiServer {
  readonly table: ResourceTable;
  readonly store: Store;
  readonly api: Api;
  readonly admission = new AdmissionChain();
  readonly faults = new Faults();
  readonly watches: WatchHub;
  readonly controllers: Controllers;
  readonly clock: Clock;
  /** Every request served, in order (method, path with query, status code, whether a watch). */
  readonly requests: RequestRecord[] = [];
  private http: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** TCP connections accepted so far (a client that keeps connections alive opens few). */
  connectionsAccepted = 0;
  private listenPort: number;

  private constructor(private readonly opts: FakeApiServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.table = new ResourceTable([...BUILTIN_RESOURCES, ...(opts.resources ?? [])]);
    this.store = new Store(opts.historyLimit ?? 10_000);
    this.api = new Api(this.store, this.table, this.clock, seededRandom(opts.seed ?? 1), this.admission);
    this.watches = new WatchHub(this.api, opts.bookmarkIntervalMs ?? 1000);
    this.controllers = new Controllers(this.api, this.clock, opts.controllers ?? {}, {
      intervalMs: opts.controllerIntervalMs ?? 50,
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs ?? 40_000,
      ...(opts.podTerminationCapMs !== undefined ? { podTerminationCapMs: opts.podTerminationCapMs } : {}),
      ...(opts.kubeletLeases !== undefined ? { kubeletLeases: opts.kubeletLeases } : {}),
      ...(opts.images !== undefined ? { images: opts.images } : {}),
    });
    this.listenPort = opts.port ?? 0;
    this.bootstrap();
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await s.listen();
    if (opts.controllerAutoRun !== false) s.controllers.start();
    return s;
  }

  /** The namespaces every cluster has, each with its "default" ServiceAccount. */
  private bootstrap(): void {
    const nsDef = this.def('v1', 'Namespace');
    for (const name of DEFAULT_NAMESPACES) {
      if (!this.store.get('/namespaces', '', name)) {
        this.api.putDirect(nsDef, {
          metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
          spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
        });
      }
    }
    this.controllers.ensureServiceAccounts();
  }

  private listen(): Promise<void> {
    const http = createServer((req, res) => {
      void handle({
        api: this.api, watches: this.watches, faults: this.faults, log: this.requests,
        serverAddress: () => `127.0.0.1:${this.listenPort}`,
        podLog: (pod, container) => this.controllers.podLog(pod, container),
      }, req, res);
    });
    http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      this.connectionsAccepted += 1;
      s.on('close', () => this.sockets.delete(s));
    });
    this.http = http;
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.listenPort, '127.0.0.1', () => {
        const addr = http.address();
        if (addr && typeof addr === 'object') this.listenPort = addr.port;
        resolve();
      });
    });
  }

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  // ---------- clients ----------

  /** A KubeConfig for @kubernetes/client-node pointing at this server. */
  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigYaml(this.url, namespace));
    return kc;
  }

  /** An API client of the official library, e.g. server.client(CoreV1Api). */
  client<T>(apiClass: new (config: never) => T): T {
    return this.kubeConfig().makeApiClient(apiClass as never) as T;
  }

  /** Writes a kubeconfig file (to `path` or a temporary one) and returns its path. */
  writeKubeconfig(path?: string, namespace = 'default'): Promise<string> {
    return writeKubeconfig(this.url, path, namespace);
  }

  // ---------- objects, from the test's side ----------

  /** The resource definition of apiVersion + kind. */
  def(apiVersion: string, kind: string): ResourceDef {
    const d = this.table.all.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
    if (!d) throw new Error(`no resource for ${apiVersion} ${kind}`);
    return d;
  }

  private defOf(obj: KubeObject): ResourceDef {
    if (!obj.apiVersion || !obj.kind) throw new Error('seeded objects need apiVersion and kind');
    return this.def(obj.apiVersion, obj.kind);
  }

  /**
   * Stores objects as given (status included), bypassing admission, defaulting and
   * validation, as if they had been in etcd all along; uid, creationTimestamp and
   * namespace are filled in when missing. Returns the stored objects.
   */
  seed(...objs: object[]): KubeObject[] {
    // Plain JSON in, whatever typed builder made it (client-node's V1Pod included).
    return objs.map((o) => JSON.parse(JSON.stringify(o)) as KubeObject).map((o) => this.api.putDirect(this.defOf(o), o));
  }

  /** Creates an object through the API's create path (defaults, admission, validation), in process. */
  create(input: object): Promise<KubeObject> {
    const obj = JSON.parse(JSON.stringify(input)) as KubeObject;
    return this.api.create(this.defOf(obj), obj.metadata?.namespace, obj);
  }

  /** The stored object, or undefined. */
  get(apiVersion: string, kind: string, name: string, namespace = 'default'): KubeObject | undefined {
    const d = this.def(apiVersion, kind);
    return this.store.get(`${d.group}/${d.plural}`, d.namespaced ? namespace : '', name);
  }

  /** The stored objects of a kind, optionally in one namespace. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const d = this.def(apiVersion, kind);
    return this.store.list(`${d.group}/${d.plural}`, d.namespaced ? namespace : undefined);
  }

  /** Runs the enabled controllers until nothing changes (for a ManualClock, after advance()). */
  reconcile(): Promise<void> {
    return this.controllers.reconcile();
  }

  // ---------- faults ----------

  /** Ends every open watch stream; returns how many were open. */
  dropWatches(): number {
    return this.watches.dropAll();
  }

  /** Drops watch history up to the current resourceVersion (an etcd compaction): older versions are 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  /** Stops serving: closes the listener and every connection (watches end). State is kept in memory. */
  async stop(): Promise<void> {
    this.controllers.stop();
    this.watches.dropAll();
    const http = this.http;
    this.http = undefined;
    if (!http) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  /**
   * Serves again on the same port. keepState false loses every object (a cluster
   * restored empty): resourceVersions keep growing, so clients' old versions are 410 Gone.
   */
  async restart(opts: { keepState?: boolean } = {}): Promise<void> {
    await this.stop();
    if (opts.keepState === false) {
      this.store.wipe();
      this.bootstrap();
    }
    await this.listen();
    if (this.opts.controllerAutoRun !== false) this.controllers.start();
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
