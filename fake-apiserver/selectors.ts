/**
 * Label and field selectors, in the query-string syntax
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors and
 * .../field-selectors/) and as LabelSelector objects (matchLabels, matchExpressions).
 */
import { badRequest } from './status.ts';
import type { LabelRequirement } from '../src/core/k8s/labels.ts';

/** Parsed label selectors are core's requirements; core matches them (src/core/k8s/labels.ts). */
export type Selector = LabelRequirement[];

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
