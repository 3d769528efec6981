/**
 * CPU and memory amounts as plain numbers (millicores, bytes) for the simulator and the
 * autoscaler's arithmetic, where exactness to the nano does not matter but speed over
 * 100,000 pods does. An unparseable quantity is undefined, never a guess.
 */
import { parseQuantity } from '../k8s/quantity.ts';
const cache = new Map<string, number | undefined>();

/**
 * The amount in base units (cores, bytes), or undefined when it is not a quantity.
 * core/k8s/quantity.ts parses; this keeps the answers, since the same few strings are
 * read for every pod every minute.
 */
export function amountOf(q: string | number | undefined | null): number | undefined {
  if (q === undefined || q === null) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (cache.has(q)) return cache.get(q);
  const r = parseQuantity(q);
  const v = r.ok ? r.value : undefined;
  if (cache.size > 10_000) cache.clear();
  cache.set(q, v);
  return v;
}

/** Millicores, rounded up as Kubernetes' MilliValue does. */
export function cpuMilli(q: string | number | undefined | null): number | undefined {
  const v = amountOf(q);
  return v === undefined ? undefined : Math.ceil(v * 1000 - 1e-9);
}

/** Bytes, rounded up. */
export function bytesOf(q: string | number | undefined | null): number | undefined {
  const v = amountOf(q);
  return v === undefined ? undefined : Math.ceil(v - 1e-9);
}

/** `250m`, `2` */
export function formatCpu(milli: number): string {
  const m = Math.max(1, Math.ceil(milli));
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Memory rounded up to whole MiB: `768Mi`, `2Gi`. */
export function formatMemory(bytes: number): string {
  const mi = Math.max(1, Math.ceil(bytes / 2 ** 20));
  return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}
