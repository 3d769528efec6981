import { describe, expect, it } from 'vitest';
import { labelsMatch, requirementsMatch, selectorMatches } from './labels.ts';

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front', n: '5' };
  it('matchLabels and every matchExpressions operator; null matches nothing, {} everything', () => {
    expect(selectorMatches({ matchLabels: { app: 'web' } }, l)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'db' } }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, l)).toBe(false);
    expect(selectorMatches(null, l)).toBe(false);
    expect(selectorMatches({}, l)).toBe(true);
  });
  it('set-based requirements of the query syntax: != and gt/lt', () => {
    expect(requirementsMatch([{ key: 'app', op: '!=', value: 'db' }, { key: 'n', op: 'gt', value: 4 }], l)).toBe(true);
    expect(requirementsMatch([{ key: 'n', op: 'lt', value: 5 }], l)).toBe(false);
    expect(labelsMatch({ app: 'web' }, l)).toBe(true);
    expect(labelsMatch({ app: 'web', x: 'y' }, l)).toBe(false);
  });
});
