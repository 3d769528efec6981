/**
 * The `--extender` and `--webhook` roles of `polyarch serve`, added to serve.ts's ROLES
 * from here, with their flags. Both are served by one HTTPS server of their own
 * (`--admission-listen`, `--tls-cert-file`, `--tls-private-key-file`: kube-apiserver and
 * kube-scheduler only speak HTTPS to them), beside serve's plain /healthz and /metrics
 * listener; their metrics land in serve's registry. Neither is leader-only: kube-apiserver
 * and kube-scheduler may call any replica. The gate controller runs with the webhook on
 * every replica; its patches `test` the gate first, so two replicas cannot both lift it.
 */
import { Option, type Command } from 'commander';
import { KubePodJsonPatcher } from '../../adapters/kube/pod-json-patcher.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { Extender } from '../../app/extender.ts';
import { GateController } from '../../app/gate-controller.ts';
import type { ArchPreference } from '../../core/admission/affinity.ts';
import { normaliseArchitecture } from '../../core/platform/platform.ts';
import { extenderRoutes } from '../../server/extender.ts';
import { startServer, type JsonRoute, type RunningServer } from '../../server/http-server.ts';
import { parseListen } from '../../server/listen.ts';
import { webhookRoute } from '../../server/webhook.ts';
import { usageError } from '../errors.ts';
import { ROLES, type ServeContext } from './serve.ts';
import { KubeScalingPolicyStore } from '../../adapters/kube/scaling-policies.ts';
import type { StartupBoostSource } from '../../app/admission.ts';
import type { ScalingPolicy } from '../../core/autoscale/policy.ts';
import { largestFreeCpuMilli } from '../../core/autoscale/startup-boost.ts';
import { policiesOf, startPolicies, unreadableFallback } from './serve-policies.ts';
import { kubeConfigFrom } from './serve-runtime.ts';

interface AdmissionFlags {
  admissionListen: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  skipNamespace: string[];
  archPreference: ArchPreference[];
  extenderDeadlineMs: number;
  gateIntervalMs: number;
  gateReleaseAfterMs: number;
  bodyLimit: number;
  namespace: string;
}

/** One HTTPS server per process, shared by the roles that add routes to it. */
class AdmissionServer {
  readonly routes: JsonRoute[] = [];
  private server: Promise<RunningServer> | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly ctx: ServeContext) {}

  /**
   * Listens, once for both roles, at start-up: a certificate pair that does not load or an
   * address in use rejects here and stops the process. Closes when `signal` aborts.
   */
  start(signal: AbortSignal): Promise<void> {
    const f = this.ctx.flags as unknown as AdmissionFlags;
    this.server ??= (async () => {
      const server = await startServer({
        listen: f.admissionListen, listenFlag: '--admission-listen', expectTls: true, bodyLimit: f.bodyLimit, routes: this.routes, metrics: this.ctx.metrics,
        log: this.ctx.log.child({ server: 'admission' }),
        ...(f.tlsCertFile && f.tlsPrivateKeyFile ? { tlsCertFile: f.tlsCertFile, tlsPrivateKeyFile: f.tlsPrivateKeyFile } : {}),
        notReady: () => (this.ctx.cluster.synced ? undefined : 'informers have not synced yet'),
      });
      this.ctx.log.info({ url: server.url, tls: server.tls }, 'admission server listening');
      const close = (): void => void (this.closed ??= server.close());
      if (signal.aborted) close();
      else signal.addEventListener('abort', close, { once: true });
      return server;
    })();
    return this.server.then(() => undefined);
  }

  /** Until `signal` aborts, then until the server has closed. */
  async serve(signal: AbortSignal): Promise<void> {
    await this.start(signal);
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    await this.closed;
  }
}

const servers = new WeakMap<ServeContext, AdmissionServer>();
const serverOf = (ctx: ServeContext): AdmissionServer => {
  let s = servers.get(ctx);
  if (!s) servers.set(ctx, (s = new AdmissionServer(ctx)));
  return s;
};

ROLES['extender'] = {
  description: 'kube-scheduler extender over HTTPS (--admission-listen): /extender/filter, /prioritize, /bind',
  create: (ctx) => {
    const f = ctx.flags as unknown as AdmissionFlags;
    const extender = new Extender({ resolver: ctx.resolver, cluster: ctx.cluster, clock: systemClock, deadlineMs: f.extenderDeadlineMs, preferences: f.archPreference, policies: policiesOf(ctx), unreadable: unreadableFallback(ctx) });
    const server = serverOf(ctx);
    server.routes.push(...extenderRoutes(extender, ctx.metrics, ctx.log.child({ role: 'extender' })));
    return { leaderOnly: false, start: async (signal) => { await startPolicies(ctx, signal); await server.start(signal); }, run: (signal) => server.serve(signal) };
  },
};

ROLES['webhook'] = {
  description: 'mutating admission webhook on pod CREATE over HTTPS (--admission-listen): /mutate-pods, and its scheduling-gate controller',
  create: (ctx) => {
    const f = ctx.flags as unknown as AdmissionFlags;
    const server = serverOf(ctx);
    const skip = [...new Set([...f.skipNamespace, f.namespace])];
    const policies = policiesOf(ctx);
    const boosts = new StartupBoostCache(new KubeScalingPolicyStore(kubeConfigFrom(ctx.flags), { clock: systemClock, log: ctx.log }), ctx.cluster, ctx.log.child({ part: 'startup-boost' }));
    server.routes.push(webhookRoute({ resolver: ctx.resolver, preferences: f.archPreference, skipNamespaces: skip, policies, startupBoost: boosts, unreadable: unreadableFallback(ctx) }, ctx.metrics, ctx.log.child({ role: 'webhook' })));
    const log = ctx.log.child({ role: 'gate-controller' });
    const cluster = ctx.cluster;
    const controller = new GateController({
      cluster: Object.assign(new KubePodJsonPatcher(kubeConfigFrom(ctx.flags), cluster), { listNodes: () => cluster.listNodes(), recordEvent: cluster.recordEvent.bind(cluster) }),
      resolver: ctx.resolver, clock: systemClock, preferences: f.archPreference, deadlineMs: 10_000, releaseAfterMs: f.gateReleaseAfterMs, intervalMs: f.gateIntervalMs, policies,
    });
    return {
      leaderOnly: false,
      start: async (signal) => {
        await startPolicies(ctx, signal);
        await boosts.refresh();
        await server.start(signal);
      },
      run: async (signal) => {
        const warm = (async () => {
          // Warm the cache with the images already running, so admission finds most of them.
          const images = new Set<string>();
          for (const p of await cluster.listPods()) for (const c of [...(p.spec.initContainers ?? []), ...p.spec.containers]) if (c.image) images.add(c.image);
          for (const ref of images) if (!signal.aborted) await ctx.resolver.resolve(ref, { signal });
          log.info({ images: images.size }, 'image cache warmed');
        })();
        await Promise.all([
          boosts.run(signal, 5_000),
          server.serve(signal),
          controller.run(signal, (r) => (r.outcome === 'failed' ? log.warn(r, 'gate') : log.info(r, 'gate')), (err) => log.error({ error: err instanceof Error ? err.message : String(err) }, 'gate round failed')),
          warm,
        ]);
      },
    };
  },
};

/**
 * The webhook's snapshot of ScalingPolicies with a startupBoost and the most CPU free on
 * one node (largestFreeCpuMilli), refreshed every few seconds (admission never waits on
 * the API server). A list that fails keeps the last snapshot and is logged.
 */
class StartupBoostCache implements StartupBoostSource {
  private snapshot: readonly ScalingPolicy[] = [];
  private room: number | undefined;

  constructor(private readonly store: KubeScalingPolicyStore, private readonly cluster: ServeContext['cluster'], private readonly log: ServeContext['log']) {}

  policies(): readonly ScalingPolicy[] {
    return this.snapshot;
  }

  roomMilli(): number | undefined {
    return this.room;
  }

  async refresh(): Promise<void> {
    try {
      const listed = await this.store.list();
      this.snapshot = listed.flatMap((p) => (p.ok && p.value.spec.startupBoost ? [p.value] : []));
    } catch (err) {
      this.log.warn({ error: err instanceof Error ? err.message : String(err) }, 'ScalingPolicies not listed; the last snapshot is used for startup boosts');
    }
    const room = largestFreeCpuMilli(await this.cluster.listNodes(), await this.cluster.listPods());
    if (room !== this.room || this.snapshot.length !== this.logged) this.log.info({ policies: this.snapshot.length, roomMilli: room }, 'startup boost snapshot');
    this.room = room;
    this.logged = this.snapshot.length;
  }

  private logged = -1;

  /** Refreshes at once (run() starts once the node informer has synced), then every `everyMs`. */
  async run(signal: AbortSignal, everyMs: number): Promise<void> {
    while (!signal.aborted) {
      await this.refresh();
      await systemClock.sleep(everyMs, signal).catch(() => undefined);
    }
  }
}

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

/** Adds the extender's and webhook's flags to the `serve` command (registered after registerServe). */
export function registerAdmissionServeOptions(program: Command): void {
  const serve = program.commands.find((c) => c.name() === 'serve');
  if (!serve) throw new Error('registerAdmissionServeOptions: no serve command registered before it');
  serve
    .addOption(new Option('--admission-listen <addr>', 'HTTPS address of the extender and the webhook').default(':8443').argParser((v: string) => {
      const r = parseListen(v, '--admission-listen');
      if (!r.ok) throw usageError(r.error);
      return v;
    }))
    .option('--tls-cert-file <file>', 'serving certificate (PEM) of the extender and webhook; reloaded when it changes. Without it: plain HTTP, with a warning')
    .option('--tls-private-key-file <file>', 'private key of the serving certificate (PEM)')
    .addOption(new Option('--skip-namespace <ns>', 'a namespace the webhook leaves alone, besides --namespace (repeatable)').argParser((v: string, p: string[] = []) => [...p, v]).default(['kube-system']))
    .addOption(new Option('--arch-preference <arch=weight,...>', 'preferred architectures, weights 1-100 (webhook preferred terms, extender scores)').argParser(parseArchPreference).default([]))
    .addOption(new Option('--extender-deadline-ms <ms>', 'longest a registry lookup may hold a kube-scheduler call').argParser(integer('--extender-deadline-ms', 1)).default(2000))
    .addOption(new Option('--gate-interval-ms <ms>', 'how often the gate controller looks for gated pods').argParser(integer('--gate-interval-ms', 100)).default(2000))
    .addOption(new Option('--gate-release-after-ms <ms>', 'the cluster default of a PlacementPolicy\'s unreadableImages, for the scheduler, the extender, the webhook and its gate controller alike: 0 is Block (a pod whose image platforms cannot be read is held); otherwise Unconstrained (an unknown image is placed at once without a constraint from it, an unreachable registry after the pod is this old)').argParser(integer('--gate-release-after-ms', 0)).default(600_000))
    .addOption(new Option('--body-limit <bytes>', 'largest request body of the extender and webhook').argParser(integer('--body-limit', 1024)).default(7 * 1024 * 1024));
  serve.hook('preAction', (cmd) => {
    const o = cmd.opts<{ tlsCertFile?: string; tlsPrivateKeyFile?: string }>();
    if (Boolean(o.tlsCertFile) !== Boolean(o.tlsPrivateKeyFile)) throw usageError('--tls-cert-file and --tls-private-key-file go together');
  });
}
