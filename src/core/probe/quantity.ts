/**
 * A Kubernetes resource quantity as a float (cores or bytes), enough for a utilisation
 * basis. Grammar as apimachinery's resource.Quantity: number, then a binary (Ki..Ei),
 * decimal (n u m k M G T P E) or exponent (e3, E-2) suffix.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))((?:[eE][+-]?\d+)|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/;

export type QuantityResult = { ok: true; value: number } | { ok: false; error: string };

export function quantityToNumber(input: string | number): QuantityResult {
  if (typeof input === 'number') return Number.isFinite(input) ? { ok: true, value: input } : { ok: false, error: `invalid quantity ${input}` };
  const m = QUANTITY.exec(input.trim());
  if (!m) return { ok: false, error: `invalid quantity ${JSON.stringify(input)}` };
  const base = Number(m[1]);
  const suffix = m[2] ?? '';
  let factor: number;
  if (suffix in BINARY) factor = BINARY[suffix]!;
  else if (suffix in DECIMAL) factor = DECIMAL[suffix]!;
  else factor = 10 ** Number(suffix.slice(1));
  return { ok: true, value: base * factor };
}
