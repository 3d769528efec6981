/**
 * What the live loops report, as Prometheus would count it. The app calls these; the
 * server side (prom-client) implements them; tests pass `noTelemetry` or a recorder.
 */
export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface Telemetry {
  /** One scheduling attempt and how long the decision took (kube-scheduler: scheduler_schedule_attempts_total). */
  schedulingAttempt(result: AttemptResult, seconds: number): void;
  /** From the pod entering the queue to its binding (scheduler_pod_scheduling_sli_duration_seconds). */
  podScheduled(seconds: number): void;
  /** Pods waiting, by queue (active, backoff, unschedulable). */
  pendingPods(queue: 'active' | 'backoff' | 'unschedulable' | 'gated', count: number): void;
  migration(reason: string, outcome: string): void;
  /** One image lookup; `cached` when answered from the resolver's cache. */
  registryLookup(cached: boolean, ok: boolean): void;
  /** One container seen failing with an exec format error: its image and the node's platform. */
  execFormatError(image: string, platform: string): void;
}

export const noTelemetry: Telemetry = {
  schedulingAttempt: () => undefined,
  podScheduled: () => undefined,
  pendingPods: () => undefined,
  migration: () => undefined,
  registryLookup: () => undefined,
  execFormatError: () => undefined,
};
