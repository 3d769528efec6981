/** Shared pieces of the end-to-end tests: the fake API server, nodes and workloads as the API stores them. */
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { KubeCluster } from '../../src/adapters/kube/cluster.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { createFramework } from '../../src/core/placement/framework.ts';
import { createRng } from '../../src/core/rng.ts';
import { Scheduler, type SchedulerOptions } from '../../src/app/scheduler.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { SimRegistry } from '../../src/sim/registry.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { Migrator, type MigratorOptions } from '../../src/app/migrator.ts';
import { formatPlatform, nodePlatform } from '../../src/core/platform/platform.ts';
import type { Node } from '../../src/core/k8s/types.ts';
import { FakeApiServer, type FakeApiServerOptions, type KubeObject } from '../../fake-apiserver/index.ts';
import { waitFor } from '../support/wait.ts';
import { spawnChecked } from '../support/spawn.ts';

/** A logger that keeps every line, so tests can assert a problem was named. */
export class RecordingLogger implements Logger {
  constructor(readonly lines: { level: string; fields: object; message: string }[] = [], private readonly bindings: Record<string, unknown> = {}) {}
  private push(level: string, fields: object, message?: string): void {
    this.lines.push({ level, fields: { ...this.bindings, ...fields }, message: message ?? '' });
  }
  debug(fields: object, message?: string): void {
    this.push('debug', fields, message);
  }
  info(fields: object, message?: string): void {
    this.push('info', fields, message);
  }
  warn(fields: object, message?: string): void {
    this.push('warn', fields, message);
  }
  error(fields: object, message?: string): void {
    this.push('error', fields, message);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }
  text(): string {
    return this.lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)}`).join('\n');
  }
}

export const ARCHES = ['amd64', 'arm64', 'loong64', 'riscv64'] as const;

export function node(name: string, arch: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string> } = {}): KubeObject {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: {},
    status: {
      capacity: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      nodeInfo: { architecture: arch, operatingSystem: 'linux', kubeletVersion: 'v1.33.0' },
    },
  };
}

export function podSpec(images: Record<string, string>, cpu = '100m'): Record<string, unknown> {
  return {
    schedulerName: 'polyarch',
    terminationGracePeriodSeconds: 1,
    containers: Object.entries(images).map(([name, image]) => ({ name, image, resources: { requests: { cpu, memory: '64Mi' } } })),
  };
}

export function deployment(name: string, replicas: number, images: Record<string, string>, cpu = '100m', namespace = 'default'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(images, cpu) },
    },
  };
}

/**
 * The pod (or a workload's pod template) tolerates an unreachable node for `seconds`
 * instead of the 300 s the DefaultTolerationSeconds admission gives: tests need not wait
 * five minutes for the taint-based move.
 */
export function leaveLostNodeAfter(obj: KubeObject, seconds: number): KubeObject {
  const toleration = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds };
  const spec = obj.spec as Record<string, unknown>;
  if (obj.kind === 'Pod') return { ...obj, spec: { ...spec, tolerations: [toleration] } };
  const template = spec['template'] as { spec: Record<string, unknown> };
  return { ...obj, spec: { ...spec, template: { ...template, spec: { ...template.spec, tolerations: [toleration] } } } };
}

export function barePod(name: string, images: Record<string, string>, cpu = '100m', namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { app: name } }, spec: podSpec(images, cpu) };
}

/** The catalog: a multi-arch index, per-arch tags, a single-arch image, and an image no node here can run. */
export const CATALOG = [
  { reference: 'registry.example/shop/web:1.4', platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/riscv64', 'linux/loong64'] },
  { reference: 'registry.example/tools/agent:2.0', tags: { 'linux/amd64': 'registry.example/tools/agent:2.0-amd64', 'linux/loong64': 'registry.example/tools/agent:2.0-loong64' } },
  { reference: 'registry.example/legacy/report:7', platforms: ['linux/arm64/v8'] },
  { reference: 'registry.example/mainframe/db:9', platforms: ['linux/s390x'] },
];

export const resolver = (): SimRegistry => new SimRegistry(CATALOG as never);

export interface Harness {
  server: FakeApiServer;
  cluster: KubeCluster;
  scheduler: Scheduler;
  migrator: Migrator | undefined;
  registry: SimRegistry;
  log: RecordingLogger;
  stop(): Promise<void>;
}

/**
 * The fake kubelet's runtime is the simulator's registry: a pod whose image variant does not
 * match its node's platform exits with `exec format error` and crash-loops, or fails to
 * pull, as on a real node (core/kube-model, the model SimKubelet shares).
 */
export function installPullCheck(server: FakeApiServer, registry: SimRegistry): void {
  server.controllers.containerRuntime = (_pod, container, n) => {
    const np = n ? nodePlatform(n as unknown as Node) : undefined;
    return np?.ok ? registry.run(container.image, np.value) : { kind: 'not-found' };
  };
}

/** A fake API server and a scheduler on its kubeconfig, the way `polyarch serve --scheduler` wires them. */
export async function startHarness(
  serverOptions: FakeApiServerOptions = {},
  schedulerOptions: Partial<SchedulerOptions> = {},
  migratorOptions?: Partial<MigratorOptions>,
): Promise<Harness> {
  const server = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, kubelet: true, garbageCollector: true }, ...serverOptions });
  const registry = resolver();
  installPullCheck(server, registry);
  // deploy/namespace.yaml: polyarch's own records (Migration objects) live here.
  server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
  const log = new RecordingLogger();
  const cluster = new KubeCluster({ kc: server.kubeConfig(), clock: systemClock, log, watchBackoff: { initialMs: 50, maxMs: 500 }, requestTimeoutMs: 10_000 });
  await cluster.start();
  const fw = createFramework({});
  if (!fw.ok) throw new Error(fw.error);
  const scheduler = new Scheduler({
    cluster,
    resolver: new ImageLookupService({ source: registry, clock: systemClock }),
    framework: fw.value,
    rng: createRng(7),
    clock: systemClock,
    log,
    queue: { initialBackoffMs: 50, maxBackoffMs: 500, maxUnschedulableMs: 60_000 },
    ...schedulerOptions,
  });
  const ac = new AbortController();
  const running = scheduler.run(ac.signal);
  const migrator = migratorOptions
    ? new Migrator({ cluster, clock: systemClock, log: log.child({ role: 'migrator' }), nodeGoneGraceMs: 300, retryInitialMs: 100, retryMaxMs: 400, intervalMs: 50, ...migratorOptions })
    : undefined;
  const migrating = migrator?.run(ac.signal);
  return {
    server,
    cluster,
    scheduler,
    migrator,
    registry,
    log,
    async stop() {
      ac.abort();
      await running;
      await migrating;
      await cluster.stop();
      await server.close();
    },
  };
}

/** Polls until `check` returns a value (not undefined or false); fails after `ms` naming `what` (test/support/wait.ts). */
export function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000, what = 'condition'): Promise<T> {
  return waitFor(check, { timeoutMs: ms, what, intervalMs: 25 });
}

export const core = (server: FakeApiServer): CoreV1Api => server.client(CoreV1Api);

export function pods(server: FakeApiServer, namespace = 'default'): KubeObject[] {
  return server.list('v1', 'Pod', namespace).filter((p) => !p.metadata?.deletionTimestamp);
}

export function events(server: FakeApiServer, namespace = 'default'): KubeObject[] {
  return server.list('v1', 'Event', namespace);
}

/** A catalog (CATALOG by default) as `polyarch inspect -o json` would print it, for `serve --images`. */
export async function catalogFile(dir: string, catalog: readonly { readonly reference: string }[] = CATALOG): Promise<string> {
  const reg = new SimRegistry(catalog as never);
  const docs = catalog.map((c) => {
    const r = reg.answer(c.reference);
    if (!r?.ok) throw new Error(c.reference);
    return {
      reference: r.value.reference,
      source: r.value.source === 'tag-convention' ? 'tag-convention' : r.value.source,
      platforms: r.value.platforms.map((p) => ({ os: p.platform.os, architecture: p.platform.architecture, ...(p.platform.variant ? { variant: p.platform.variant } : {}), image: p.image, digest: p.digest, platform: formatPlatform(p.platform) })),
      warnings: [],
    };
  });
  const file = join(dir, 'images.json');
  await writeFile(file, JSON.stringify(docs));
  return file;
}

/**
 * `node bin/polyarch.js serve ARGS...` with its output lines kept (stdout and stderr), for the
 * process-level tests; `failure` says why it could not be started, once known.
 */
export function spawnServe(args: readonly string[]): { proc: ChildProcess; out: string[]; failure: () => Error | undefined } {
  const { proc, failure } = spawnChecked(process.execPath, ['bin/polyarch.js', 'serve', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  proc.stdout?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  proc.stderr?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  return { proc, out, failure };
}
