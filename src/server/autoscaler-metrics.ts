/**
 * Prometheus metrics of the autoscaler: what it reclaimed (cores and bytes, by generation
 * and reason), releases applied to pods, demand it could not meet, the forecast's error,
 * and its actions by kind and result.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AutoscalerTelemetry } from '../ports/scaling-policy.ts';

export interface AutoscalerMetrics extends AutoscalerTelemetry {
  readonly reclaimedCores: Counter<'generation' | 'reason'>;
  readonly reclaimedBytes: Counter<'generation' | 'reason'>;
  readonly releases: Counter<'reason'>;
  readonly unmetDemand: Gauge<'resource'>;
  readonly forecastErrors: Histogram<'resource'>;
  readonly actions: Counter<'kind' | 'result'>;
}

export function createAutoscalerMetrics(registry: Registry): AutoscalerMetrics {
  const registers = [registry];
  const reclaimedCores = new Counter({ name: 'polyarch_autoscaler_reclaimed_cores_total', help: 'CPU cores taken back by the plan, by generation (young, old) and reason.', labelNames: ['generation', 'reason'], registers });
  const reclaimedBytes = new Counter({ name: 'polyarch_autoscaler_reclaimed_bytes_total', help: 'Memory bytes taken back by the plan, by generation (young, old) and reason.', labelNames: ['generation', 'reason'], registers });
  const releases = new Counter({ name: 'polyarch_autoscaler_releases_total', help: 'Decreases applied to pods, by reason (CpuLowered, MemoryLowered).', labelNames: ['reason'], registers });
  const unmetDemand = new Gauge({ name: 'polyarch_autoscaler_unmet_demand', help: 'Increases the last plan could not grant (cores for cpu, bytes for memory).', labelNames: ['resource'], registers });
  const forecastErrors = new Histogram({
    name: 'polyarch_autoscaler_forecast_error_ratio',
    help: '|forecast - actual| per pod as a share of its request, when the forecast minute arrives.',
    labelNames: ['resource'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2],
    registers,
  });
  const actions = new Counter({ name: 'polyarch_autoscaler_actions_total', help: 'Actions on pods by kind (resize, revert, evict, reclaim) and result.', labelNames: ['kind', 'result'], registers });
  return {
    reclaimedCores,
    reclaimedBytes,
    releases,
    unmetDemand,
    forecastErrors,
    actions,
    reclaimed: (resource, generation, reason, amount) => (resource === 'cpu' ? reclaimedCores : reclaimedBytes).inc({ generation, reason }, amount),
    release: (reason) => releases.inc({ reason }),
    unmet: (resource, amount) => unmetDemand.set({ resource }, amount),
    forecastError: (resource, error) => forecastErrors.observe({ resource }, error),
    action: (kind, result) => actions.inc({ kind, result }),
  };
}
