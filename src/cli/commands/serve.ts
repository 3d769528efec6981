/**
 * `polyarch serve`: run in a cluster with the roles given (`--scheduler`, `--migrator`,
 * and the roles other modules register: extender, webhook, autoscaler). Every replica
 * keeps its informers warm and answers /healthz, /readyz and /metrics; only the holder
 * of the leader Lease runs the roles that write (client-go's leader election), so two
 * replicas never bind or evict the same pod.
 */
import { Option, type Command } from 'commander';
import { LeaderElector } from '../../adapters/kube/leader.ts';
import { checkApiServer } from '../../adapters/kube/config.ts';
import type { KubeCluster } from '../../adapters/kube/cluster.ts';
import type { PullSecretSource } from '../../adapters/kube/credentials.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { Migrator } from '../../app/migrator.ts';
import { ExecFormatController, loadBadPlatforms } from '../../app/exec-format.ts';
import { runEvery } from '../../app/run-loop.ts';
import { Scheduler } from '../../app/scheduler.ts';
import { createFramework } from '../../core/placement/framework.ts';
import { createRng } from '../../core/rng.ts';
import type { ImageLookupService } from '../../app/image-lookup.ts';
import type { Logger } from '../../ports/logger.ts';
import { startServer, ServerStartError, type JsonRoute, type RunningServer } from '../../server/http-server.ts';
import { createMetrics, type ServerMetrics } from '../../server/metrics.ts';
import { createSchedulingMetrics, type SchedulingMetrics } from '../../server/scheduling-metrics.ts';
import { parseDuration } from '../duration.ts';
import { autoscalerRole } from './serve-autoscaler.ts';
import { policiesOf, policiesSynced, startPolicies, unreadableFallback } from './serve-policies.ts';
import { CliError, usageError } from '../errors.ts';
import { clusterFrom, defaultIdentity, kubeConfigFrom, makeLogger, resolverFrom, type ClusterFlags } from './serve-runtime.ts';

/** What a role gets: the shared adapters, built once per process. */
export interface ServeContext {
  readonly cluster: KubeCluster;
  readonly secrets: PullSecretSource;
  readonly resolver: ImageLookupService;
  readonly log: Logger;
  readonly metrics: ServerMetrics;
  readonly telemetry: SchedulingMetrics;
  readonly flags: ServeFlags;
}

/**
 * A running role. Leader-only roles are started on acquiring their Lease and stopped on
 * losing it. A role that fails stops the process with its reason (as a controller-runtime
 * manager stops when a runnable returns an error): the kubelet restarts it, and the
 * reason is in its last log line.
 */
export interface Role {
  readonly leaderOnly: boolean;
  /** HTTP routes the role serves (extender, webhook); served by every replica. */
  readonly routes?: readonly JsonRoute[];
  /**
   * Start-up work that can fail on a broken configuration (a listener, a certificate):
   * run before the process reports it is serving; a rejection stops the process. What it
   * opens is released when `signal` aborts.
   */
  start?(signal: AbortSignal): Promise<void>;
  run(signal: AbortSignal): Promise<void>;
}

export interface RoleDefinition {
  readonly description: string;
  /** Checks the role's flags (a usage error stops the process before anything listens). */
  create(ctx: ServeContext): Role;
}

/** Roles by flag name. Other modules add theirs here (extender, webhook, autoscaler). */
export const ROLES: Record<string, RoleDefinition> = {
  scheduler: {
    description: 'schedule pending pods with spec.schedulerName (S2-S4: node, platform, image variant)',
    create: (ctx) => ({
      leaderOnly: true,
      start: (signal) => startPolicies(ctx, signal),
      run: (signal) => {
        const fw = createFramework({ pinImages: ctx.flags.pinImages === true });
        if (!fw.ok) throw new Error(fw.error);
        const scheduler = new Scheduler({
          cluster: ctx.cluster,
          resolver: ctx.resolver,
          framework: fw.value,
          policies: policiesOf(ctx),
          unreadable: unreadableFallback(ctx),
          rng: createRng(Number(ctx.flags.seed) || 1),
          clock: systemClock,
          log: ctx.log.child({ role: 'scheduler' }),
          telemetry: ctx.telemetry,
          schedulerName: ctx.flags.schedulerName,
        });
        return scheduler.run(signal);
      },
    }),
  },
  migrator: {
    description: 'move pods off lost (tainted unreachable, past their toleration), deleted and drained nodes, recorded as Migration objects',
    create: (ctx) => ({
      leaderOnly: true,
      run: (signal) =>
        new Migrator({
          cluster: ctx.cluster,
          clock: systemClock,
          log: ctx.log.child({ role: 'migrator' }),
          telemetry: ctx.telemetry,
          defaultTolerationMs: durationFlag('--default-toleration', ctx.flags.defaultToleration),
          nodeGoneGraceMs: durationFlag('--node-lost-grace', ctx.flags.nodeLostGrace),
          intervalMs: durationFlag('--migrator-interval', ctx.flags.migratorInterval),
        }).run(signal),
    }),
  },
  'exec-format': {
    description: 'catch containers failing with exec format error (pod status, log tail), record the image digest as not running on that platform (ConfigMap polyarch-exec-format) and move the pod through a Migration',
    create: (ctx) => ({
      leaderOnly: true,
      run: (signal) => {
        const log = ctx.log.child({ role: 'exec-format' });
        // The one migration path: this Migrator only records the moves; the --migrator role carries them out.
        const migrator = new Migrator({
          cluster: ctx.cluster,
          clock: systemClock,
          log,
          telemetry: ctx.telemetry,
          defaultTolerationMs: durationFlag('--default-toleration', ctx.flags.defaultToleration),
        });
        return new ExecFormatController({
          cluster: ctx.cluster,
          store: ctx.cluster,
          resolver: ctx.resolver,
          migrator,
          clock: systemClock,
          log,
          telemetry: ctx.telemetry,
          intervalMs: durationFlag('--exec-format-interval', ctx.flags.execFormatInterval),
        }).run(signal);
      },
    }),
  },
  autoscaler: autoscalerRole,
};

/** Roles that place pods through the image lookup service: their process keeps its record of digests that do not run current. */
const IMAGE_ROLES: ReadonlySet<string> = new Set(['scheduler', 'extender', 'webhook', 'exec-format']);

export interface ServeFlags extends ClusterFlags {
  listen: string;
  schedulerName: string;
  pinImages?: boolean;
  leaderElect: boolean;
  leaderElectNamespace?: string;
  leaderElectName?: string;
  cacheSyncTimeout: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  identity?: string;
  nodeLostGrace: string;
  defaultToleration: string;
  migratorInterval: string;
  execFormatInterval: string;
  seed: string;
  [role: string]: unknown;
}

/** A listener or certificate that fails at start is a failed operation naming its cause, not an internal error. */
const started = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw err instanceof ServerStartError ? new CliError(err.message) : err;
  });

/** Waits for the informers' first lists, at most `ms`. */
async function syncWithin(cluster: KubeCluster, ms: number, signal: AbortSignal): Promise<'synced' | 'timeout' | 'aborted'> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      cluster.start().then(() => 'synced' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function durationFlag(name: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw usageError(`${name}: "${value}" is not a duration (e.g. 500ms, 15s, 2m)`);
  return ms;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerServe(program: Command): void {
  const cmd = program.command('serve');
  for (const [name, role] of Object.entries(ROLES)) cmd.option(`--${name}`, role.description);
  cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--namespace <ns>', "namespace of polyarch's own objects (Lease, Migration records)", process.env['POD_NAMESPACE'] || 'polyarch-system')
    .option('--dry-run', 'decide and log, write nothing to the cluster')
    .option('--listen <addr>', 'address of /healthz, /readyz and /metrics', ':8080')
    .option('--scheduler-name <name>', 'spec.schedulerName of the pods to schedule', 'polyarch')
    .option('--pin-images', "scheduler: write every chosen variant into the pod by digest (default: only where the pod's own reference would not give the node that variant, e.g. a per-architecture tag); one more API request per pod")
    .option('--images <file>', 'offline image catalog (polyarch inspect -o json output) instead of the registries')
    .option('--auth-file <file>', 'registry credentials (docker config.json) besides the pods\' pull secrets')
    .addOption(new Option('--insecure-registry <host>', 'registry spoken to over plain HTTP (repeatable)').argParser(collect).default([]))
    .option('--no-leader-elect', 'run the writing roles without leader election (one replica only)')
    .option('--leader-elect-namespace <ns>', 'namespace of the leader Lease (default: --namespace)')
    .option('--leader-elect-name <name>', 'one Lease of this name for all the writing roles of this process (default: one per role, polyarch-scheduler, polyarch-migrator, polyarch-autoscaler)')
    .option('--lease-duration <d>', 'how long a standby waits before taking an unrenewed Lease', '15s')
    .option('--renew-deadline <d>', 'how long the leader keeps trying to renew before stepping down', '10s')
    .option('--retry-period <d>', 'interval of Lease attempts', '2s')
    .option('--cache-sync-timeout <d>', 'how long the informers may take to sync at start before the process stops (controller-runtime\'s default)', '2m')
    .option('--identity <id>', 'holder identity in the Lease (default: $POD_NAME, else hostname)')
    .option('--node-lost-grace <d>', 'how long a Node object must stay missing (deleted) before its pods move at once (pods on an unreachable node move after their toleration)', '30s')
    .option('--default-toleration <d>', 'how long pods with no toleration of node.kubernetes.io/unreachable stay on an unreachable node (the DefaultTolerationSeconds admission gives them 300s)', '5m')
    .option('--migrator-interval <d>', 'interval of migration rounds', '2s')
    .option('--exec-format-interval <d>', 'interval of exec format rounds (--exec-format), and of re-reading the record of digests that do not run (--scheduler, --extender, --webhook)', '10s')
    .option('--probe-port <port>', 'port of the node probes (GET /windows, POST /reclaim) on each node\'s InternalIP, for --autoscaler', '9477')
    .option('--autoscaler-interval <d>', 'interval of autoscaler rounds', '60s')
    .option('--autoscaler-max-changes <n>', 'disruption budget: pods the autoscaler may resize or evict per round (default: no limit)')
    .option('--seed <n>', 'seed of the tie-breaking random generator', '1')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (flags: ServeFlags) => {
      // commander names the flag of a role like `exec-format` execFormat.
      const selected = Object.keys(ROLES).filter((r) => flags[r.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] === true);
      if (selected.length === 0) throw usageError(`serve: give at least one role (${Object.keys(ROLES).map((r) => `--${r}`).join(', ')})`);
      const leaseDurationMs = durationFlag('--lease-duration', flags.leaseDuration);
      const renewDeadlineMs = durationFlag('--renew-deadline', flags.renewDeadline);
      const retryPeriodMs = durationFlag('--retry-period', flags.retryPeriod);
      durationFlag('--node-lost-grace', flags.nodeLostGrace);
      durationFlag('--default-toleration', flags.defaultToleration);
      durationFlag('--migrator-interval', flags.migratorInterval);
      const execFormatIntervalMs = durationFlag('--exec-format-interval', flags.execFormatInterval);
      if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) throw usageError('want --lease-duration > --renew-deadline > --retry-period');
      const cacheSyncTimeoutMs = durationFlag('--cache-sync-timeout', flags.cacheSyncTimeout);
      const identity = flags.identity ?? defaultIdentity();
      const log = makeLogger(flags.logLevel, { identity });
      const kc = kubeConfigFrom(flags);
      const { cluster, secrets } = clusterFrom(kc, flags, log, identity);
      const resolver = await resolverFrom(flags, secrets);
      const metrics = createMetrics();
      const telemetry = createSchedulingMetrics(metrics.registry);
      const ctx: ServeContext = { cluster, secrets, resolver, log, metrics, telemetry, flags };
      const createRole = (name: string): Role => {
        const def = ROLES[name];
        if (!def) throw usageError(`serve: no role --${name}`);
        return def.create(ctx);
      };
      const roles = selected.map((name) => ({ name, role: createRole(name) }));

      const shutdown = new AbortController();
      let failure: string | undefined;
      // A role that fails stops the process (exit 1), the reason in its last log line and on stderr.
      const fail = (why: string): void => {
        failure ??= why;
        log.error({ error: why }, 'stopping');
        shutdown.abort();
      };
      const onSignal = (sig: string): void => {
        log.info({ signal: sig }, 'shutting down');
        shutdown.abort();
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      const runRole = async (name: string, role: Role, signal: AbortSignal): Promise<void> => {
        try {
          await role.run(signal);
        } catch (err) {
          fail(`--${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      };

      let server: RunningServer | undefined;
      try {
        // Start-up, in order, each failure naming its cause: listeners (address in use, certificates), the API server, the informers.
        server = await started(startServer({
          listen: flags.listen,
          bodyLimit: 3 * 1024 * 1024,
          routes: roles.flatMap((r) => [...(r.role.routes ?? [])]),
          metrics,
          log,
          notReady: () => (cluster.synced ? undefined : 'informers have not synced yet'),
        }));
        for (const { role } of roles) if (role.start) await started(role.start(shutdown.signal));
        const api = await checkApiServer(kc);
        if (!api.ok) throw new CliError(api.error);
        log.info({ url: server.url, roles: selected, dryRun: flags.dryRun ?? false, apiServer: api.version }, 'serving');
        const synced = await syncWithin(cluster, cacheSyncTimeoutMs, shutdown.signal);
        if (synced === 'timeout') throw new CliError(`informers (nodes, pods) did not sync within --cache-sync-timeout ${flags.cacheSyncTimeout}; see the 'watch failed' warnings above`);
        if (synced === 'aborted') return;
        log.info({ nodes: (await cluster.listNodes()).length, pods: (await cluster.listPods()).length }, 'informers synced');
        // The placement policies' first lists (started by the roles that read them), at most --cache-sync-timeout.
        await policiesSynced(ctx);
        if (shutdown.signal.aborted) return;

        // Roles that do not write run on every replica; the others only while holding their Lease.
        const running = roles.filter((r) => !r.role.leaderOnly).map((r) => runRole(r.name, r.role, shutdown.signal));
        // Every replica that places pods honours the record of digests that do not run (kept current; a failed read keeps the last one).
        if (selected.some((r) => IMAGE_ROLES.has(r))) {
          running.push(runEvery({
            signal: shutdown.signal,
            clock: systemClock,
            intervalMs: execFormatIntervalMs,
            round: async () => {
              const r = await loadBadPlatforms(cluster, resolver);
              if (r.added > 0 || r.removed > 0) log.info({ added: r.added, removed: r.removed, known: resolver.badPlatforms().length }, 'image digests that do not run on a platform: record read');
              for (const e of r.errors) log.warn({ error: e }, 'exec format record ignored: invalid entry');
            },
            onError: (err) => log.warn({ error: err instanceof Error ? err.message : String(err) }, 'cannot read the record of digests that do not run; keeping the last one read'),
          }));
        }
        const writers = roles.filter((r) => r.role.leaderOnly).map((r) => r.name);
        // A fresh instance per term: no state carried over from a previous leadership.
        const runTerm = (names: readonly string[], signal: AbortSignal): Promise<unknown> => Promise.all(names.map((name) => runRole(name, createRole(name), signal)));
        const setLeader = (names: readonly string[], v: number): void => names.forEach((role) => telemetry.leader.set({ role }, v));
        if (!flags.leaderElect) {
          setLeader(writers, 1);
          running.push(runTerm(writers, shutdown.signal).then(() => undefined));
        } else {
          // By default one Lease per role (polyarch-scheduler, polyarch-migrator, polyarch-autoscaler), so a process playing
          // other roles (a separate `serve --autoscaler`) never starves this one; --leader-elect-name puts this process's set on one Lease.
          const groups = flags.leaderElectName ? (writers.length ? [{ lease: flags.leaderElectName, names: writers }] : []) : writers.map((w) => ({ lease: `polyarch-${w}`, names: [w] }));
          for (const { lease, names } of groups) {
            const elector = new LeaderElector(kc, {
              namespace: flags.leaderElectNamespace ?? flags.namespace,
              name: lease,
              identity,
              leaseDurationMs,
              renewDeadlineMs,
              retryPeriodMs,
              clock: systemClock,
              log: log.child({ part: 'leader-election', lease }),
            });
            let term: Promise<unknown> = Promise.resolve();
            running.push((async () => {
              await elector.run(
                {
                  onStartedLeading: (signal) => {
                    setLeader(names, 1);
                    term = runTerm(names, signal);
                  },
                  onStoppedLeading: () => {
                    setLeader(names, 0);
                    log.warn({ identity, lease }, 'stopped leading; standing by');
                  },
                  onNewLeader: (leader) => log.info({ leader, lease }, 'leader observed'),
                },
                shutdown.signal,
              );
              await term;
            })());
          }
        }
        await Promise.all(running);
      } finally {
        shutdown.abort();
        await cluster.stop();
        await server?.close();
      }
      if (failure !== undefined) throw new CliError(failure);
    });
}
