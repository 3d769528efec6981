/**
 * Kubernetes resource quantities, parsed as k8s.io/apimachinery/pkg/api/resource does
 * (quantity.go, parseQuantityString + ParseQuantity):
 *
 *   <quantity> ::= <signedNumber><suffix>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei            (binary)
 *                | n | u | m | "" | k | M | G | T | P | E  (decimal)
 *                | e<signedNumber> | E<signedNumber>      (decimal exponent)
 *   <number>   ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
 *
 * Values are exact (BigInt) and, like Kubernetes, rounded up to the nearest nano so that
 * a tiny non-zero request never becomes zero; `milli` and `value` round up again as
 * MilliValue() and Value() do. Values beyond 2^63-1 are capped as Kubernetes caps them.
 *
 * parseQuantity(s) -> {ok, value: number} (cores, bytes as plain numbers) is the shared
 * signature (the scaling side has the same); placement uses parseQuantityExact for
 * exact millicores and bytes.
 */

import type { ParseResult } from '../platform/platform.ts';

export interface Quantity {
  /** The exact amount in units of 10^-9, rounded up (away from zero) as Kubernetes does. */
  readonly nano: bigint;
  /** MilliValue(): the amount x 1000 rounded up; CPU in millicores. */
  readonly milli: number;
  /** Value(): the amount rounded up to an integer; memory and storage in bytes. */
  readonly value: number;
}

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = 'eEinumkKMGTP';
const MAX_NANO = (2n ** 63n - 1n) * 1_000_000_000n;
const NANO = 1_000_000_000n;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

export type QuantityResult = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

/** The quantity as a plain number (`500m` -> 0.5, `8Gi` -> 8589934592), from the exact parse. */
export function parseQuantity(input: string | number): QuantityResult {
  const q = parseQuantityExact(input);
  if (!q.ok) return q;
  const n = q.value.nano;
  const whole = n / NANO;
  return { ok: true, value: Number(whole) + Number(n - whole * NANO) / 1e9 };
}

/**
 * Results of parseQuantityExact by input string: a cluster writes the same few
 * quantities over and over (every pod of a Deployment), and parsing is exact BigInt
 * arithmetic. Results are immutable; the memo is bounded (cleared when full).
 */
const memo = new Map<string, ParseResult<Quantity>>();
const MEMO_SIZE = 4096;

/** Parses a quantity string (or a number written unquoted in YAML) exactly. */
export function parseQuantityExact(input: string | number): ParseResult<Quantity> {
  if (typeof input !== 'string') return parseUncached(input);
  let r = memo.get(input);
  if (r === undefined) {
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(input, (r = Object.freeze(parseUncached(input))));
  }
  return r;
}

function parseUncached(input: string | number): ParseResult<Quantity> {
  const str = typeof input === 'number' ? numberText(input) : input;
  const fail = (why: string): ParseResult<Quantity> => ({ ok: false, error: `invalid quantity "${str}": ${why}` });
  if (str.length === 0) return fail('empty');
  let pos = 0;
  let negative = false;
  if (str[0] === '-' || str[0] === '+') {
    negative = str[0] === '-';
    pos++;
  }
  const intStart = pos;
  while (isDigit(str[pos])) pos++;
  const intDigits = str.slice(intStart, pos);
  let fracDigits = '';
  if (str[pos] === '.') {
    pos++;
    const fracStart = pos;
    while (isDigit(str[pos])) pos++;
    fracDigits = str.slice(fracStart, pos);
  }
  // Kubernetes accepts "1." and ".5"; a quantity without any digit is refused.
  if (intDigits === '' && fracDigits === '') return fail('no digits');
  const suffixStart = pos;
  while (pos < str.length && SUFFIX_CHARS.includes(str[pos] ?? '')) pos++;
  if (pos < str.length && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (isDigit(str[pos])) pos++;
  if (pos < str.length) return fail(`unknown suffix "${str.slice(suffixStart)}"`);
  const suffix = str.slice(suffixStart);

  let exp10 = 0;
  let exp2 = 0;
  if (suffix in DECIMAL_SUFFIX) exp10 = DECIMAL_SUFFIX[suffix] ?? 0;
  else if (suffix in BINARY_SUFFIX) exp2 = BINARY_SUFFIX[suffix] ?? 0;
  else if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    exp10 = Number.parseInt(suffix.slice(1), 10);
  } else return fail(`unknown suffix "${suffix}"`);

  const digits = BigInt((intDigits + fracDigits) || '0');
  exp10 -= fracDigits.length;
  let nano: bigint;
  if (digits === 0n) nano = 0n;
  else if (exp10 + 9 > 40) nano = MAX_NANO; // far beyond the cap; avoids building huge numbers
  else {
    const scaled = digits * 2n ** BigInt(exp2);
    const shift = exp10 + 9;
    if (shift >= 0) nano = scaled * 10n ** BigInt(shift);
    else if (-shift > 60) nano = 1n; // non-zero but below a nano: rounds up to one
    else nano = ceilDiv(scaled, 10n ** BigInt(-shift));
    if (nano > MAX_NANO) nano = MAX_NANO;
  }
  if (negative) nano = -nano;
  return { ok: true, value: Object.freeze(fromNano(nano)) };
}

/** A quantity from its exact nano amount. */
export function fromNano(nano: bigint): Quantity {
  const neg = nano < 0n;
  const abs = neg ? -nano : nano;
  const milli = ceilDiv(abs, 1_000_000n);
  const value = ceilDiv(abs, NANO);
  return { nano, milli: Number(neg ? -milli : milli), value: Number(neg ? -value : value) };
}

/** Millicores of a quantity string, or undefined when it does not parse. */
export function milliValue(input: string | number): number | undefined {
  const q = parseQuantityExact(input);
  return q.ok ? q.value.milli : undefined;
}

/** Integer value (bytes, counts) of a quantity string, or undefined when it does not parse. */
export function intValue(input: string | number): number | undefined {
  const q = parseQuantityExact(input);
  return q.ok ? q.value.value : undefined;
}

/** Formats millicores as Kubernetes prints CPU: `1500m`, `2`. */
export function formatMilli(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Formats bytes with the largest exact binary suffix: `128Mi`, `1536Mi`, `1000`. */
export function formatBytes(bytes: number): string {
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const;
  for (let i = 0; i < units.length; i++) {
    const size = 2 ** (60 - 10 * i);
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${units[i]}`;
  }
  return String(bytes);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a ? q : q + 1n;
}

/** YAML may give `cpu: 2` or `cpu: 0.5`; JavaScript prints 1e21 as "1e+21", which the grammar accepts. */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'NaN';
}

export type QuantityFormat = 'DecimalSI' | 'BinarySI';

const DECIMAL_DESC = Object.entries(DECIMAL_SUFFIX).sort((a, b) => b[1] - a[1]);
const BINARY_DESC = Object.entries(BINARY_SUFFIX).sort((a, b) => b[1] - a[1]);
const scale10 = (x: number, exp: number): number => (exp >= 0 ? x * 10 ** exp : x / 10 ** -exp);
const isWhole = (x: number): boolean => Math.abs(x - Math.round(x)) <= Math.max(1e-9, 8 * Number.EPSILON * Math.abs(x));

/**
 * Canonical form, as Kubernetes writes it: the largest suffix that leaves a whole number
 * ('1.5' -> '1500m', 1610612736 -> '1536Mi' in BinarySI, 8e9 -> '8G'). BinarySI falls
 * back to DecimalSI for values that are not a whole number of KiB. (Same function and
 * output as the scaling side's formatQuantity.)
 */
export function formatQuantity(value: number, format: QuantityFormat = 'DecimalSI'): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot format ${value} as a quantity`);
  if (value === 0) return '0';
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (format === 'BinarySI' && abs >= 1024 && isWhole(abs)) {
    for (const [suffix, shift] of BINARY_DESC) {
      const q = abs / 2 ** shift;
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
