/**
 * Node selectors as k8s.io/component-helpers/scheduling/corev1/nodeaffinity matches them:
 * terms are ORed; inside a term, matchExpressions and matchFields are ANDed; a term with
 * neither matches nothing; `matchFields` knows only `metadata.name`.
 */

import type { Labels, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm } from './types.ts';

export interface NodeFacts {
  readonly name: string;
  readonly labels: Labels;
}

/** Kubernetes parses Gt/Lt operands with strconv.Atoi: an optional sign and decimal digits. */
const INTEGER = /^[+-]?[0-9]+$/;

export function matchRequirement(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const bound = values[0];
      if (value === undefined || values.length !== 1 || bound === undefined) return false;
      if (!INTEGER.test(value) || !INTEGER.test(bound)) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(bound, 10);
      return req.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

export function matchTerm(term: NodeSelectorTerm, node: NodeFacts): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const e of exprs) if (!matchRequirement(e, node.labels[e.key])) return false;
  for (const f of fields) {
    if (f.key !== 'metadata.name') return false;
    if (f.operator !== 'In' && f.operator !== 'NotIn') return false;
    if (!matchRequirement(f, node.name)) return false;
  }
  return true;
}

export function matchNodeSelector(selector: NodeSelector, node: NodeFacts): boolean {
  for (const term of selector.nodeSelectorTerms) if (matchTerm(term, node)) return true;
  return false;
}

/** spec.nodeSelector: every label must be present with that value. */
export function matchLabels(selector: Labels, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}
