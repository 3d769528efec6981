/**
 * The `--autoscaler` role of `polyarch serve`: the ScalingPolicy autoscaler on the live
 * cluster, reading usage from the node probes (GET /windows on each node's InternalIP) and
 * asking them for proactive reclaim (POST /reclaim).
 */
import { KubeScalingPolicyStore } from '../../adapters/kube/scaling-policies.ts';
import { ProbeMetricsSource } from '../../adapters/metrics/probe-source.ts';
import { HttpNodeReclaimer } from '../../adapters/probe/reclaim-client.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { Autoscaler } from '../../app/autoscaler.ts';
import type { Node } from '../../core/k8s/types.ts';
import type { MetricsSource } from '../../ports/metrics-source.ts';
import { createAutoscalerMetrics, type AutoscalerMetrics } from '../../server/autoscaler-metrics.ts';
import { parseDuration } from '../duration.ts';
import { usageError } from '../errors.ts';
import { kubeConfigFrom } from './serve-runtime.ts';
import type { RoleDefinition, ServeContext } from './serve.ts';

const metricsByContext = new WeakMap<ServeContext, AutoscalerMetrics>();

function nodeAddress(n: Node): string | undefined {
  const addrs = (n.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [];
  return (addrs.find((a) => a.type === 'InternalIP') ?? addrs.find((a) => a.type === 'Hostname'))?.address;
}

export const autoscalerRole: RoleDefinition = {
  description: 'scale pods by their ScalingPolicy: forecast, plan (P vs Q, reclaim by score, generations), resize in place or recreate',
  create: (ctx) => {
    // Flags checked when the role is created, at start-up, not when it first leads.
    const flags = ctx.flags as ServeContext['flags'] & { probePort?: string; autoscalerInterval?: string; autoscalerMaxChanges?: string };
    const maxChanges = flags.autoscalerMaxChanges === undefined ? undefined : Number(flags.autoscalerMaxChanges);
    if (maxChanges !== undefined && !(Number.isInteger(maxChanges) && maxChanges >= 0)) throw usageError(`--autoscaler-max-changes: "${flags.autoscalerMaxChanges ?? ''}" is not a whole number`);
    const intervalMs = parseDuration(flags.autoscalerInterval ?? '60s');
    if (intervalMs === undefined || intervalMs <= 0) throw usageError(`--autoscaler-interval: "${flags.autoscalerInterval ?? ''}" is not a duration`);
    const port = Number(flags.probePort ?? '9477');
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw usageError(`--probe-port: "${flags.probePort ?? ''}" is not a port`);
    return {
      leaderOnly: true,
      run: (signal) => {
        const endpointOf = async (node: string): Promise<string | undefined> => {
          const n = await ctx.cluster.getNode(node);
          const a = n ? nodeAddress(n) : undefined;
          return a ? `http://${a.includes(':') ? `[${a}]` : a}:${port}` : undefined;
        };
        const endpoints = async (): Promise<string[]> => (await ctx.cluster.listNodes()).map(nodeAddress).filter((a): a is string => !!a).map((a) => `http://${a.includes(':') ? `[${a}]` : a}:${port}`);
        let telemetry = metricsByContext.get(ctx);
        if (!telemetry) metricsByContext.set(ctx, (telemetry = createAutoscalerMetrics(ctx.metrics.registry)));
        const token = process.env['POLYARCH_PROBE_TOKEN'];
        const log = ctx.log.child({ role: 'autoscaler' });
        const probes = new ProbeMetricsSource({ endpoints, clock: systemClock });
        // A probe that cannot be read leaves its pods without usage this round: say which.
        const metrics: MetricsSource = {
          appUsage: async (since) => {
            const samples = await probes.appUsage(since);
            const st = probes.status();
            if (!st.ok) log.warn({ unreadable: st.errors.length, errors: st.errors.slice(0, 5) }, 'node probes not read');
            return samples;
          },
        };
        return new Autoscaler({
          reader: ctx.cluster,
          writer: ctx.cluster,
          metrics,
          policies: new KubeScalingPolicyStore(kubeConfigFrom(ctx.flags), { clock: systemClock, log: ctx.log, dryRun: ctx.flags.dryRun ?? false }),
          reclaimer: new HttpNodeReclaimer({ endpointOf, ...(token ? { token } : {}) }),
          clock: systemClock,
          log,
          telemetry,
          intervalMs,
          ...(maxChanges !== undefined ? { plan: { maxPodChanges: maxChanges } } : {}),
        }).run(signal);
      },
    };
  },
};
