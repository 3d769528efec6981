/**
 * resource.Quantity parsing (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/):
 * decimal SI suffixes (m, k, M, G, T, P, E), binary suffixes (Ki, Mi, Gi, Ti, Pi, Ei) and
 * decimal exponents (1e3). Returns the value as a number (CPU cores, bytes), or undefined.
 */
const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export const parseQuantity = (q: unknown): number | undefined => {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = q.trim().match(/^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/);
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * (SUFFIX[m[3] ?? ''] ?? 1);
};

export type ResourceList = Record<string, string>;

/** Sum of container requests of a pod spec, per resource (cpu in cores, memory in bytes). */
export const podRequests = (spec: { containers?: { resources?: { requests?: ResourceList; limits?: ResourceList } }[] } | undefined): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const c of spec?.containers ?? []) {
    // A container with limits but no requests requests its limits (defaulting in the API).
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [k, v] of Object.entries(req)) out[k] = (out[k] ?? 0) + (parseQuantity(v) ?? 0);
  }
  return out;
};
