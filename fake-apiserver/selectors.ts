/**
 * Label and field selectors, in the query-string syntax
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors and
 * .../field-selectors/) and as LabelSelector objects (matchLabels, matchExpressions).
 */
import { badRequest } from './status.ts';

export type Requirement =
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Selector = Requirement[];

/** Splits on commas that are not inside parentheses. */
const splitTop = (s: string): string[] => {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== '');
};

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

export const parseLabelSelector = (raw: string | null | undefined): Selector => {
  if (!raw) return [];
  const reqs: Selector = [];
  for (const part of splitTop(raw)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = (m[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
      reqs.push({ key: m[1] ?? '', op: m[2] as 'in' | 'notin', values });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: m[1] ?? '', op: '!exists' });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: m[1] ?? '', op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(<|>)\s*(-?\d+)$/))) {
      reqs.push({ key: m[1] ?? '', op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) });
    } else if ((m = part.match(/^([^=!<>\s()]+)$/))) {
      reqs.push({ key: m[1] ?? '', op: 'exists' });
    } else {
      throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  for (const r of reqs) {
    if (!KEY.test(r.key)) throw badRequest(`unable to parse requirement: invalid label key "${r.key}"`);
  }
  return reqs;
};

export const matches = (sel: Selector, labels: Record<string, string> | undefined): boolean => {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case '=': return has && v === r.value;
      case '!=': return !has || v !== r.value;
      case 'in': return has && r.values.includes(v ?? '');
      case 'notin': return !has || !r.values.includes(v ?? '');
      case 'gt': return has && Number.isInteger(Number(v)) && Number(v) > r.value;
      case 'lt': return has && Number.isInteger(Number(v)) && Number(v) < r.value;
      default: return false;
    }
  });
};

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }

/** Field selectors support only =, == and != (fields.ParseSelector). */
export const parseFieldSelector = (raw: string | null | undefined, supported: readonly string[]): FieldRequirement[] => {
  if (!raw) return [];
  return splitTop(raw).map((part) => {
    const m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${raw}'; can't understand '${part}'`);
    const field = m[1] ?? '';
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' };
  });
};

export const matchesFields = (reqs: FieldRequirement[], fields: (field: string) => string): boolean =>
  reqs.every((r) => (r.op === '=' ? fields(r.field) === r.value : fields(r.field) !== r.value));

/** A metav1.LabelSelector object. An empty selector matches everything; null matches nothing. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export const fromLabelSelector = (s: LabelSelectorObject): Selector => {
  const out: Selector = Object.entries(s.matchLabels ?? {}).map(([key, value]) => ({ key, op: '=' as const, value }));
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'In') out.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (e.operator === 'NotIn') out.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (e.operator === 'Exists') out.push({ key: e.key, op: 'exists' });
    else out.push({ key: e.key, op: '!exists' });
  }
  return out;
};

export const selectorMatches = (s: LabelSelectorObject | null | undefined, labels: Record<string, string> | undefined): boolean =>
  s ? matches(fromLabelSelector(s), labels) : false;
