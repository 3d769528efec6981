/**
 * Prometheus metrics of the scheduler and migrator, named after kube-scheduler's where
 * one exists (scheduler_schedule_attempts_total, scheduler_pod_scheduling_sli_duration_seconds,
 * scheduler_pending_pods), prefixed polyarch_.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptResult, Telemetry } from '../ports/telemetry.ts';

export interface SchedulingMetrics extends Telemetry {
  readonly attempts: Counter<'result'>;
  readonly attemptDuration: Histogram<'result'>;
  readonly e2e: Histogram;
  readonly pending: Gauge<'queue'>;
  readonly migrations: Counter<'reason' | 'outcome'>;
  readonly registryLookups: Counter<'cache' | 'result'>;
  readonly leader: Gauge<'role'>;
  readonly execFormatErrors: Counter<'image' | 'platform'>;
}

export function createSchedulingMetrics(registry: Registry): SchedulingMetrics {
  const registers = [registry];
  const attempts = new Counter({ name: 'polyarch_schedule_attempts_total', help: 'Scheduling attempts, by result (scheduled, unschedulable, error).', labelNames: ['result'], registers });
  const attemptDuration = new Histogram({
    name: 'polyarch_scheduling_attempt_duration_seconds',
    help: 'Time to decide one pod (filters, scores, variant choice), by result.',
    labelNames: ['result'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const e2e = new Histogram({
    name: 'polyarch_pod_scheduling_duration_seconds',
    help: 'End to end: from the pod entering the queue to its binding, retries and registry lookups included.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const pending = new Gauge({ name: 'polyarch_pending_pods', help: 'Pods waiting to be scheduled, by queue (active, backoff, unschedulable, gated = waiting for a registry lookup).', labelNames: ['queue'], registers });
  const migrations = new Counter({ name: 'polyarch_migrations_total', help: 'Pod migrations, by reason (node-lost, drain, manual, exec-format-error) and outcome (succeeded, failed, blocked).', labelNames: ['reason', 'outcome'], registers });
  const registryLookups = new Counter({ name: 'polyarch_registry_lookups_total', help: 'Image platform lookups, by cache (hit, miss) and result (ok, error).', labelNames: ['cache', 'result'], registers });
  const execFormatErrors = new Counter({
    name: 'polyarch_exec_format_errors_total',
    help: 'Containers seen failing with an exec format error (the image digest does not run on the node\'s platform), by architecture-neutral image and node platform.',
    labelNames: ['image', 'platform'] as const,
    registers,
  });
  const leader = new Gauge({ name: 'polyarch_leader', help: '1 while this replica holds the leader Lease of the role.', labelNames: ['role'] as const, registers });
  return {
    attempts,
    attemptDuration,
    e2e,
    pending,
    migrations,
    registryLookups,
    leader,
    execFormatErrors,
    schedulingAttempt(result: AttemptResult, seconds: number) {
      attempts.inc({ result });
      attemptDuration.observe({ result }, seconds);
    },
    podScheduled(seconds: number) {
      e2e.observe(seconds);
    },
    pendingPods(queue, count) {
      pending.set({ queue }, count);
    },
    migration(reason, outcome) {
      migrations.inc({ reason, outcome });
    },
    registryLookup(cached, ok) {
      registryLookups.inc({ cache: cached ? 'hit' : 'miss', result: ok ? 'ok' : 'error' });
    },
    execFormatError(image, platform) {
      execFormatErrors.inc({ image, platform });
    },
  };
}
