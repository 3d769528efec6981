/**
 * Kubernetes resource quantities ('500m', '8Gi', '10G', '1.5', '2e3'), as
 * k8s.io/apimachinery/pkg/api/resource parses them:
 *   <quantity> ::= <sign>? <number> <suffix>?
 *   <number>   ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei            (powers of 1024)
 *               |  n | u | m | "" | k | M | G | T | P | E (powers of 1000)
 *               |  (e|E) <sign>? <digits>                 (decimal exponent)
 * A bare 'E' is exa, not an exponent ('1E' = 1e18, '1E3' = 1000). 'K' and 'e' alone are
 * not suffixes. Values are returned as plain numbers (cores, bytes): float64 is exact for
 * every integer byte count below 2^53 (8 PiB), which is plenty for one node or cluster.
 *
 * Self-contained on purpose (no imports) so that more than one branch can carry it.
 */

export type QuantityResult = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*)$/;
const EXPONENT = /^[eE]([+-]?[0-9]+)$/;

export function parseQuantity(input: string): QuantityResult {
  if (typeof input !== 'string') return { ok: false, error: 'a quantity must be a string' };
  const s = input.trim();
  if (s === '') return { ok: false, error: 'empty quantity' };
  const m = QUANTITY.exec(s);
  if (!m) return { ok: false, error: `'${input}' is not a quantity (expected a number with an optional suffix, e.g. 500m, 8Gi, 10G)` };
  const sign = m[1] === '-' ? -1 : 1;
  const mantissa = Number(m[2]);
  const suffix = m[3] ?? '';
  let value: number;
  const bin = BINARY[suffix];
  const dec = DECIMAL[suffix];
  if (bin !== undefined) value = mantissa * bin;
  else if (dec !== undefined) value = scale10(mantissa, dec);
  else {
    const e = EXPONENT.exec(suffix);
    if (!e) return { ok: false, error: `'${input}' has an unknown suffix '${suffix}' (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or e<exponent>)` };
    value = scale10(mantissa, Number(e[1]));
  }
  if (!Number.isFinite(value)) return { ok: false, error: `'${input}' is out of range` };
  return { ok: true, value: sign * value + 0 };
}

// Dividing by a power of ten is exact more often than multiplying by its inverse (0.1 is not).
const scale10 = (x: number, exp: number): number => (exp >= 0 ? x * 10 ** exp : x / 10 ** -exp);

export type QuantityFormat = 'DecimalSI' | 'BinarySI';

const DECIMAL_DESC = Object.entries(DECIMAL).sort((a, b) => b[1] - a[1]);
const BINARY_DESC = Object.entries(BINARY).sort((a, b) => b[1] - a[1]);

const isWhole = (x: number): boolean => Math.abs(x - Math.round(x)) <= Math.max(1e-9, 8 * Number.EPSILON * Math.abs(x));

/**
 * Canonical form, as Kubernetes writes it: the largest suffix that leaves a whole number
 * ('1.5' -> '1500m', 1610612736 -> '1536Mi' in BinarySI, 8e9 -> '8G'). BinarySI falls back
 * to DecimalSI for values that are not a whole number of KiB, as Kubernetes does. Values
 * finer than a nano unit are rounded up to it.
 */
export function formatQuantity(value: number, format: QuantityFormat = 'DecimalSI'): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot format ${value} as a quantity`);
  if (value === 0) return '0';
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (format === 'BinarySI' && abs >= 1024 && isWhole(abs)) {
    for (const [suffix, mult] of BINARY_DESC) {
      const q = abs / mult;
      if (q >= 1 && isWhole(q)) return `${sign}${Math.round(q)}${suffix}`;
    }
    if (isWhole(abs)) return `${sign}${Math.round(abs)}`;
  }
  for (const [suffix, exp] of DECIMAL_DESC) {
    const q = scale10(abs, -exp);
    if (q >= 1 && isWhole(q)) return `${sign}${Math.round(q)}${suffix}`;
  }
  return `${sign}${Math.ceil(scale10(abs, 9) - 1e-6)}n`;
}
