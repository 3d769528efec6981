/**
 * A Kubernetes resource quantity as a float (cores or bytes), enough for a utilisation
 * basis. Grammar as apimachinery's resource.Quantity: number, then a binary (Ki..Ei),
 * decimal (n u m k M G T P E) or exponent (e3, E-2) suffix.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
// Powers of ten; negative ones divide (1200000000n / 1e9 is exactly 1.2, x 1e-9 is not).
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))((?:[eE][+-]?\d+)|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/;

export type QuantityResult = { ok: true; value: number } | { ok: false; error: string };

export function quantityToNumber(input: string | number): QuantityResult {
  if (typeof input === 'number') return Number.isFinite(input) ? { ok: true, value: input } : { ok: false, error: `invalid quantity ${input}` };
  const m = QUANTITY.exec(input.trim());
  if (!m) return { ok: false, error: `invalid quantity ${JSON.stringify(input)}` };
  const base = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return { ok: true, value: base * BINARY[suffix]! };
  const exp = suffix in DECIMAL ? DECIMAL[suffix]! : Number(suffix.slice(1));
  return { ok: true, value: exp < 0 ? base / 10 ** -exp : base * 10 ** exp };
}
