import type { LabelSelector, Labels } from '../core/k8s/types.ts';

/** Does a label set satisfy a LabelSelector (matchLabels and matchExpressions)? */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Labels | null | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const val = l[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(val ?? ''))) return false;
    if (e.operator === 'NotIn' && has && values.includes(val ?? '')) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function labelsMatch(want: Readonly<Record<string, string>> | undefined, labels: Labels | null | undefined): boolean {
  if (!want) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(want)) if (l[k] !== v) return false;
  return true;
}
