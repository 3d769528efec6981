/**
 * `polyarch serve`: run in a cluster with the roles it should play. Each role is an
 * entry of `serveRoles` (a flag, and a start function that adds HTTP routes, readiness
 * checks and background loops to a shared context), so a role is added by adding an
 * entry. Concrete adapters (@kubernetes/client-node, the registry client, pino) are
 * chosen here, in the CLI layer.
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { pino } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { Extender } from '../../app/extender.ts';
import { GateController } from '../../app/gate-controller.ts';
import type { ArchPreference } from '../../core/admission/affinity.ts';
import { normaliseArchitecture } from '../../core/platform/platform.ts';
import { KubeCluster } from '../../adapters/kube/cluster.ts';
import { loadKubeConfig } from '../../adapters/kube/config.ts';
import { KubePodJsonPatcher } from '../../adapters/kube/pod-json-patcher.ts';
import { RegistryResolver } from '../../adapters/registry/resolver.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ImageResolver } from '../../ports/image-resolver.ts';
import type { Logger } from '../../ports/logger.ts';
import { extenderRoutes } from '../../server/extender.ts';
import { startServer, type JsonRoute } from '../../server/http-server.ts';
import { parseListen } from '../../server/listen.ts';
import { createMetrics, type ServerMetrics } from '../../server/metrics.ts';
import { webhookRoute } from '../../server/webhook.ts';
import { CliError, usageError } from '../errors.ts';

export interface ServeFlags {
  listen: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  kubeconfig?: string;
  context?: string;
  namespace: string;
  skipNamespace: string[];
  archPreference: ArchPreference[];
  extenderDeadlineMs: number;
  gateIntervalMs: number;
  gateReleaseAfterMs: number;
  bodyLimit: number;
  logLevel: string;
  [role: string]: unknown;
}

/** What roles share: one API connection (informers), one registry cache, one HTTP server. */
export interface ServeContext {
  readonly flags: ServeFlags;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: ServerMetrics;
  readonly signal: AbortSignal;
  kubeConfig(): KubeConfig;
  /** The informer-backed cluster, started (synced) on first use. */
  cluster(): Promise<KubeCluster>;
  resolver(): ImageResolver;
  addRoutes(...routes: JsonRoute[]): void;
  /** /readyz reports the first check that returns a reason. */
  addReadiness(check: () => string | undefined): void;
  /** A loop that runs until the signal aborts; its failure is logged and ends the process with code 1. */
  background(name: string, loop: Promise<void>): void;
}

export interface ServeRole {
  readonly description: string;
  start(ctx: ServeContext): Promise<void>;
}

export const serveRoles: Record<string, ServeRole> = {
  extender: {
    description: 'kube-scheduler extender: /extender/filter, /prioritize, /bind',
    async start(ctx) {
      const cluster = await ctx.cluster();
      const extender = new Extender({ resolver: ctx.resolver(), cluster, clock: ctx.clock, deadlineMs: ctx.flags.extenderDeadlineMs, preferences: ctx.flags.archPreference });
      ctx.addRoutes(...extenderRoutes(extender, ctx.metrics, ctx.log.child({ role: 'extender' })));
    },
  },
  webhook: {
    description: 'mutating admission webhook on pod CREATE (/mutate-pods) and its scheduling-gate controller',
    async start(ctx) {
      const { flags } = ctx;
      const resolver = ctx.resolver();
      ctx.addRoutes(webhookRoute({ resolver, preferences: flags.archPreference, skipNamespaces: [...new Set([...flags.skipNamespace, flags.namespace])] }, ctx.metrics, ctx.log.child({ role: 'webhook' })));
      const cluster = await ctx.cluster();
      const log = ctx.log.child({ role: 'gate-controller' });
      const controller = new GateController({
        cluster: Object.assign(new KubePodJsonPatcher(ctx.kubeConfig(), cluster), { listNodes: () => cluster.listNodes(), recordEvent: (e: Parameters<KubeCluster['recordEvent']>[0]) => cluster.recordEvent(e) }),
        resolver, clock: ctx.clock, preferences: flags.archPreference, deadlineMs: 10_000,
        releaseAfterMs: flags.gateReleaseAfterMs, intervalMs: flags.gateIntervalMs,
      });
      ctx.background('gate-controller', controller.run(ctx.signal, (r) => (r.outcome === 'failed' ? log.warn(r, 'gate') : log.info(r, 'gate'))));
      // Warm the cache with the images already running, so admission finds most of them.
      ctx.background('cache-warmer', (async () => {
        const images = new Set<string>();
        for (const p of await cluster.listPods()) for (const c of [...(p.spec.initContainers ?? []), ...p.spec.containers]) if (c.image) images.add(c.image);
        for (const ref of images) {
          if (ctx.signal.aborted) return;
          await resolver.resolve(ref, { signal: ctx.signal });
        }
        log.info({ images: images.size }, 'image cache warmed');
      })());
    },
  },
};

function parseArchPreference(text: string, prev: ArchPreference[] = []): ArchPreference[] {
  const out = [...prev];
  for (const part of text.split(',').filter(Boolean)) {
    const [arch = '', w = ''] = part.split('=');
    const canon = normaliseArchitecture(arch);
    const weight = Number(w);
    if (!canon || !Number.isInteger(weight) || weight < 1 || weight > 100) throw usageError(`--arch-preference: "${part}" is not ARCH=WEIGHT with a known architecture and a weight of 1-100`);
    out.push({ architecture: canon.architecture, weight });
  }
  return out;
}

const integer = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usageError(`${name}: want a whole number >= ${min}, got "${v}"`);
  return n;
};

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run in a cluster, with the roles given as flags (one process may play several)')
    .option('--listen <addr>', 'HTTPS address for the roles, /healthz, /readyz and /metrics', ':8443')
    .option('--tls-cert-file <file>', 'serving certificate (PEM); reloaded when it changes. Without it: plain HTTP, with a warning')
    .option('--tls-private-key-file <file>', 'private key of the serving certificate (PEM)')
    .option('--kubeconfig <file>', 'kubeconfig; default: in-cluster config, else $KUBECONFIG or ~/.kube/config')
    .option('--context <name>', 'kubeconfig context')
    .option('--namespace <ns>', "polyarch's own namespace (never mutated by the webhook)", 'polyarch-system')
    .addOption(new Option('--skip-namespace <ns>', 'a namespace the webhook leaves alone (repeatable)').argParser((v: string, p: string[] = []) => [...p, v]).default(['kube-system']))
    .addOption(new Option('--arch-preference <arch=weight,...>', 'preferred architectures, weights 1-100 (preferred node affinity, extender scores)').argParser(parseArchPreference).default([]))
    .addOption(new Option('--extender-deadline-ms <ms>', 'longest a registry lookup may hold a kube-scheduler call').argParser(integer('--extender-deadline-ms', 1)).default(2000))
    .addOption(new Option('--gate-interval-ms <ms>', 'how often the gate controller looks for gated pods').argParser(integer('--gate-interval-ms', 100)).default(2000))
    .addOption(new Option('--gate-release-after-ms <ms>', 'release a gated pod whose images stay unresolvable this long, without a constraint (0: never)').argParser(integer('--gate-release-after-ms', 0)).default(600_000))
    .addOption(new Option('--body-limit <bytes>', 'largest request body').argParser(integer('--body-limit', 1024)).default(7 * 1024 * 1024))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'));
  for (const [name, role] of Object.entries(serveRoles)) cmd.option(`--${name}`, role.description);
  cmd.action(async (flags: ServeFlags) => {
    const chosen = Object.keys(serveRoles).filter((r) => flags[r] === true);
    if (chosen.length === 0) throw usageError(`serve: choose at least one role: ${Object.keys(serveRoles).map((r) => `--${r}`).join(', ')}`);
    const addr = parseListen(flags.listen);
    if (!addr.ok) throw usageError(addr.error);
    if (Boolean(flags.tlsCertFile) !== Boolean(flags.tlsPrivateKeyFile)) throw usageError('--tls-cert-file and --tls-private-key-file go together');
    await serve(flags, chosen);
  });
}

async function serve(flags: ServeFlags, chosen: string[]): Promise<void> {
  const log: Logger = pino({ level: flags.logLevel, base: { component: 'polyarch', roles: chosen.join(',') } });
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const metrics = createMetrics();
  const routes: JsonRoute[] = [];
  const readiness: (() => string | undefined)[] = [];
  const loops: Promise<void>[] = [];
  let kc: KubeConfig | undefined;
  let cluster: Promise<KubeCluster> | undefined;
  let resolver: ImageResolver | undefined;
  let failed: unknown;

  const ctx: ServeContext = {
    flags, log, clock: systemClock, metrics, signal: abort.signal,
    kubeConfig: () => {
      try {
        kc ??= loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      return kc;
    },
    cluster: () => {
      cluster ??= (async () => {
        const c = new KubeCluster({ kc: ctx.kubeConfig(), clock: systemClock, log: log.child({ adapter: 'kube' }), namespace: flags.namespace, instance: hostname() });
        await c.start();
        return c;
      })();
      return cluster;
    },
    resolver: () => (resolver ??= new RegistryResolver({ clock: systemClock })),
    addRoutes: (...r) => routes.push(...r),
    addReadiness: (check) => readiness.push(check),
    background: (name, loop) => {
      loops.push(loop.catch((err: unknown) => {
        failed ??= err;
        log.error({ loop: name, err: err instanceof Error ? err.message : String(err) }, 'background loop failed');
        abort.abort();
      }));
    },
  };

  let ready = false;
  readiness.push(() => (ready ? undefined : 'starting'));
  // The server comes up first, so /healthz answers while informers sync.
  const server = await startServer({
    listen: flags.listen, ...(flags.tlsCertFile ? { tlsCertFile: flags.tlsCertFile, tlsPrivateKeyFile: flags.tlsPrivateKeyFile } : {}),
    bodyLimit: flags.bodyLimit, routes, metrics, log,
    notReady: () => readiness.map((c) => c()).find((r) => r !== undefined),
  }).catch((err: unknown) => {
    throw new CliError(`--listen ${flags.listen}: ${err instanceof Error ? err.message : String(err)}`);
  });
  try {
    for (const name of chosen) await serveRoles[name]?.start(ctx);
    ready = true;
    log.info({ url: server.url, roles: chosen }, 'serving');
    await new Promise<void>((resolve) => (abort.signal.aborted ? resolve() : abort.signal.addEventListener('abort', () => resolve(), { once: true })));
  } finally {
    abort.abort();
    await server.close();
    await Promise.all(loops);
    if (cluster) await (await cluster.catch(() => undefined))?.stop();
  }
  if (failed) throw new CliError(`serve: ${failed instanceof Error ? failed.message : String(failed)}`);
}
