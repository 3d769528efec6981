/**
 * Label selectors as the API machinery matches them (k8s.io/apimachinery/pkg/labels): a
 * selector is a list of requirements that must all hold. The query-string syntax
 * (`app=web,tier in (a,b),!canary`) is parsed at the fake API server's edge
 * (fake-apiserver/selectors.ts); metav1.LabelSelector objects (matchLabels,
 * matchExpressions) become the same requirements here. One matcher for the simulator,
 * the fake API server and the webhook test double.
 */
import type { LabelSelector, Labels } from './types.ts';

export type LabelRequirement =
  | { readonly key: string; readonly op: 'exists' | '!exists' }
  | { readonly key: string; readonly op: '=' | '!='; readonly value: string }
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'gt' | 'lt'; readonly value: number }
  /** An operator the API does not know: matches nothing (LabelSelectorAsSelector fails). */
  | { readonly key: string; readonly op: 'invalid' };

/** Do the labels satisfy every requirement? */
export function requirementsMatch(reqs: readonly LabelRequirement[], labels: Labels | null | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
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
      case 'invalid': return false;
    }
  });
}

/** A metav1.LabelSelector as requirements (matchLabels as `=`, then matchExpressions). */
export function selectorRequirements(s: LabelSelector): LabelRequirement[] {
  const out: LabelRequirement[] = Object.entries(s.matchLabels ?? {}).map(([key, value]) => ({ key, op: '=' as const, value }));
  for (const e of s.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In': out.push({ key: e.key, op: 'in', values: e.values ?? [] }); break;
      case 'NotIn': out.push({ key: e.key, op: 'notin', values: e.values ?? [] }); break;
      case 'Exists': out.push({ key: e.key, op: 'exists' }); break;
      case 'DoesNotExist': out.push({ key: e.key, op: '!exists' }); break;
      default: out.push({ key: e.key, op: 'invalid' });
    }
  }
  return out;
}

/** Does a label set satisfy a LabelSelector? An empty selector matches everything; none (null) matches nothing. */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Labels | null | undefined): boolean {
  return selector ? requirementsMatch(selectorRequirements(selector), labels) : false;
}

/** Equality-only selection (a `key=value` map, as ListOptions.labelSelector from a map): every pair present. */
export function labelsMatch(want: Labels | null | undefined, labels: Labels | null | undefined): boolean {
  if (!want) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(want)) if (l[k] !== v) return false;
  return true;
}
