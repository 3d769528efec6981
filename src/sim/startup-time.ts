/**
 * The simulator's start-up time under a CPU allocation (issue 17 item 3): a pod's start-up
 * is CPU-bound work that takes the scenario's `startup` minutes when its containers
 * request `startupCpu` (policy.startupCpu); with a request r it takes startup x startupCpu / r
 * minutes, rounded up to whole simulated minutes, never less than `startup` and at most ten
 * times it (start-up is partly I/O, and a pod under contention still gets its request).
 * Without policy.startupCpu the time is the fixed `startup` (the rule before this one).
 */
export function startupMinutes(baseMinutes: number, requestMilli: number, startupCpuMilli: number | undefined): number {
  if (startupCpuMilli === undefined || startupCpuMilli <= 0 || baseMinutes <= 0) return baseMinutes;
  const slowdown = requestMilli > 0 ? startupCpuMilli / requestMilli : 10;
  return Math.ceil(baseMinutes * Math.min(10, Math.max(1, slowdown)));
}
