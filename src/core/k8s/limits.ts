/**
 * Limits on what an input may expand to, checked before any work starts, so a manifest
 * or scenario with `replicas: 1000000000` is a one-line usage error rather than a process
 * that grows until it is killed. The figures are Kubernetes' own tested limits
 * (kubernetes.io/docs/setup/best-practices/cluster-large: at most 5,000 nodes and
 * 150,000 pods per cluster): polyarch's offline tools model one cluster, so nothing
 * larger is meaningful.
 */
export const MAX_PODS = 150_000;
export const MAX_NODES = 5_000;

export const tooManyPods = (n: number): string =>
  `${n} pods in all, over the limit of ${MAX_PODS} (Kubernetes' tested maximum per cluster)`;
