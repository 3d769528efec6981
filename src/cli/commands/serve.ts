/**
 * `polyarch serve`: run in a cluster with the roles given (`--scheduler`, `--migrator`,
 * and the roles other modules register: extender, webhook, autoscaler). Every replica
 * keeps its informers warm and answers /healthz, /readyz and /metrics; only the holder
 * of the leader Lease runs the roles that write (client-go's leader election), so two
 * replicas never bind or evict the same pod.
 */
import { Option, type Command } from 'commander';
import { LeaderElector } from '../../adapters/kube/leader.ts';
import type { KubeCluster } from '../../adapters/kube/cluster.ts';
import type { PullSecretSource } from '../../adapters/kube/credentials.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { Migrator } from '../../app/migrator.ts';
import { Scheduler } from '../../app/scheduler.ts';
import { createFramework } from '../../core/placement/framework.ts';
import { mulberry32 } from '../../core/placement/rng.ts';
import type { ImageLookupService } from '../../app/image-lookup.ts';
import type { Logger } from '../../ports/logger.ts';
import { startServer, type JsonRoute } from '../../server/http-server.ts';
import { createMetrics, type ServerMetrics } from '../../server/metrics.ts';
import { createSchedulingMetrics, type SchedulingMetrics } from '../../server/scheduling-metrics.ts';
import { parseDuration } from '../duration.ts';
import { autoscalerRole } from './serve-autoscaler.ts';
import { usageError } from '../errors.ts';
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

/** A running role. Leader-only roles are started on acquiring the Lease and stopped on losing it. */
export interface Role {
  readonly leaderOnly: boolean;
  /** HTTP routes the role serves (extender, webhook); served by every replica. */
  readonly routes?: readonly JsonRoute[];
  run(signal: AbortSignal): Promise<void>;
}

export interface RoleDefinition {
  readonly description: string;
  create(ctx: ServeContext): Role;
}

/** Roles by flag name. Other modules add theirs here (extender, webhook, autoscaler). */
export const ROLES: Record<string, RoleDefinition> = {
  scheduler: {
    description: 'schedule pending pods with spec.schedulerName (S2-S4: node, platform, image variant)',
    create: (ctx) => ({
      leaderOnly: true,
      run: (signal) => {
        const fw = createFramework({});
        if (!fw.ok) throw new Error(fw.error);
        const scheduler = new Scheduler({
          cluster: ctx.cluster,
          resolver: ctx.resolver,
          framework: fw.value,
          rng: mulberry32(Number(ctx.flags.seed) || 1),
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
  autoscaler: autoscalerRole,
};

export interface ServeFlags extends ClusterFlags {
  listen: string;
  schedulerName: string;
  leaderElect: boolean;
  leaderElectNamespace?: string;
  leaderElectName: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  identity?: string;
  nodeLostGrace: string;
  defaultToleration: string;
  migratorInterval: string;
  seed: string;
  [role: string]: unknown;
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
    .option('--images <file>', 'offline image catalog (polyarch inspect -o json output) instead of the registries')
    .option('--auth-file <file>', 'registry credentials (docker config.json) besides the pods\' pull secrets')
    .addOption(new Option('--insecure-registry <host>', 'registry spoken to over plain HTTP (repeatable)').argParser(collect).default([]))
    .option('--no-leader-elect', 'run the writing roles without leader election (one replica only)')
    .option('--leader-elect-namespace <ns>', 'namespace of the leader Lease (default: --namespace)')
    .option('--leader-elect-name <name>', 'name of the leader Lease', 'polyarch')
    .option('--lease-duration <d>', 'how long a standby waits before taking an unrenewed Lease', '15s')
    .option('--renew-deadline <d>', 'how long the leader keeps trying to renew before stepping down', '10s')
    .option('--retry-period <d>', 'interval of Lease attempts', '2s')
    .option('--identity <id>', 'holder identity in the Lease (default: $POD_NAME, else hostname)')
    .option('--node-lost-grace <d>', 'how long a Node object must stay missing (deleted) before its pods move at once (pods on an unreachable node move after their toleration)', '30s')
    .option('--default-toleration <d>', 'how long pods with no toleration of node.kubernetes.io/unreachable stay on an unreachable node (the DefaultTolerationSeconds admission gives them 300s)', '5m')
    .option('--migrator-interval <d>', 'interval of migration rounds', '2s')
    .option('--probe-port <port>', 'port of the node probes (GET /windows, POST /reclaim) on each node\'s InternalIP, for --autoscaler', '9477')
    .option('--autoscaler-interval <d>', 'interval of autoscaler rounds', '60s')
    .option('--autoscaler-max-changes <n>', 'disruption budget: pods the autoscaler may resize or evict per round (default: no limit)')
    .option('--seed <n>', 'seed of the tie-breaking random generator', '1')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (flags: ServeFlags) => {
      const selected = Object.keys(ROLES).filter((r) => flags[r] === true);
      if (selected.length === 0) throw usageError(`serve: give at least one role (${Object.keys(ROLES).map((r) => `--${r}`).join(', ')})`);
      const leaseDurationMs = durationFlag('--lease-duration', flags.leaseDuration);
      const renewDeadlineMs = durationFlag('--renew-deadline', flags.renewDeadline);
      const retryPeriodMs = durationFlag('--retry-period', flags.retryPeriod);
      durationFlag('--node-lost-grace', flags.nodeLostGrace);
      durationFlag('--default-toleration', flags.defaultToleration);
      durationFlag('--migrator-interval', flags.migratorInterval);
      if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) throw usageError('want --lease-duration > --renew-deadline > --retry-period');
      const identity = flags.identity ?? defaultIdentity();
      const log = makeLogger(flags.logLevel, { identity });
      const kc = kubeConfigFrom(flags);
      const { cluster, secrets } = clusterFrom(kc, flags, log, identity);
      const resolver = await resolverFrom(flags, secrets);
      const metrics = createMetrics();
      const telemetry = createSchedulingMetrics(metrics.registry);
      const ctx: ServeContext = { cluster, secrets, resolver, log, metrics, telemetry, flags };
      const roles = selected.map((name) => ({ name, role: ROLES[name]?.create(ctx) }));

      const shutdown = new AbortController();
      const onSignal = (sig: string): void => {
        log.info({ signal: sig }, 'shutting down');
        shutdown.abort();
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));

      const server = await startServer({
        listen: flags.listen,
        bodyLimit: 3 * 1024 * 1024,
        routes: roles.flatMap((r) => [...(r.role?.routes ?? [])]),
        metrics,
        log,
        notReady: () => (cluster.synced ? undefined : 'informers have not synced yet'),
      });
      log.info({ url: server.url, roles: selected, dryRun: flags.dryRun ?? false }, 'serving');
      await cluster.start();
      log.info({ nodes: (await cluster.listNodes()).length, pods: (await cluster.listPods()).length }, 'informers synced');

      // Roles that do not write run on every replica; the others only while leading.
      const always = roles.filter((r) => r.role && !r.role.leaderOnly).map((r) => r.role?.run(shutdown.signal));
      const leaderRoles = roles.filter((r) => r.role?.leaderOnly);
      const runLeaderRoles = (signal: AbortSignal): Promise<unknown> =>
        Promise.all(
          leaderRoles.map(async ({ name }) => {
            // A fresh instance per term: no state carried over from a previous leadership.
            const role = ROLES[name]?.create(ctx);
            try {
              await role?.run(signal);
            } catch (err) {
              log.error({ role: name, error: err instanceof Error ? err.message : String(err) }, 'role failed');
            }
          }),
        );
      if (!flags.leaderElect) {
        telemetry.leader.set(1);
        await runLeaderRoles(shutdown.signal);
      } else if (leaderRoles.length > 0) {
        const elector = new LeaderElector(kc, {
          namespace: flags.leaderElectNamespace ?? flags.namespace,
          name: flags.leaderElectName,
          identity,
          leaseDurationMs,
          renewDeadlineMs,
          retryPeriodMs,
          clock: systemClock,
          log: log.child({ part: 'leader-election' }),
        });
        let term: Promise<unknown> = Promise.resolve();
        await elector.run(
          {
            onStartedLeading: (signal) => {
              telemetry.leader.set(1);
              term = runLeaderRoles(signal);
            },
            onStoppedLeading: () => {
              telemetry.leader.set(0);
              log.warn({ identity }, 'stopped leading; standing by');
            },
            onNewLeader: (leader) => log.info({ leader }, 'leader observed'),
          },
          shutdown.signal,
        );
        await term;
      }
      await Promise.allSettled(always);
      await cluster.stop();
      await server.close();
    });
}
