/**
 * CPU and memory amounts as plain numbers (millicores, bytes) for the simulator and the
 * autoscaler's arithmetic, where exactness to the nano does not matter but speed over
 * 100,000 pods does. Parsing follows the Kubernetes quantity grammar; an unparseable
 * quantity is undefined, never a guess.
 */
const SUFFIX: Readonly<Record<string, number>> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const RE = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

const cache = new Map<string, number | undefined>();

/** The amount in base units (cores, bytes), or undefined when it is not a quantity. */
export function amountOf(q: string | number | undefined | null): number | undefined {
  if (q === undefined || q === null) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const hit = cache.get(q);
  if (hit !== undefined || cache.has(q)) return hit;
  const m = RE.exec(q.trim());
  let v: number | undefined;
  if (m) {
    const base = Number(m[1]);
    if (m[2]) v = base * 10 ** Number(m[2].slice(1));
    else v = base * (SUFFIX[m[3] ?? ''] ?? 1);
  }
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
