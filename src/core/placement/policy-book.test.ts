import { describe, expect, it } from 'vitest';
import { parsePlatform } from '../platform/platform.ts';
import { policyAllows } from './namespace-policy.ts';
import { PlacementPolicies, type PlacementPolicyObject, type PolicyStatus } from './policy-book.ts';

const pp = (name: string, created: string, platforms: string[]): PlacementPolicyObject => ({
  kind: 'PlacementPolicy', metadata: { namespace: 'team-a', name, creationTimestamp: created }, spec: { platforms },
});
const arm = (() => {
  const p = parsePlatform('linux/arm64');
  if (!p.ok) throw new Error(p.error);
  return p.value;
})();

describe('several PlacementPolicies in one namespace', () => {
  it('the oldest is in force whatever the names; the others are refused with a Conflict verdict; deleting the one in force promotes the next oldest', () => {
    const statuses: PolicyStatus[] = [];
    const book = new PlacementPolicies('Block', () => undefined, (s) => statuses.push(s));
    book.upsert(pp('zz-first', '2026-01-01T00:00:00Z', ['linux/arm64']));
    expect(book.policyFor('team-a').source).toBe('PlacementPolicy team-a/zz-first');
    // Newer, with a name that sorts first: refused, the first stays in force.
    book.upsert(pp('aa-second', '2026-01-02T00:00:00Z', ['linux/amd64']));
    expect(book.policyFor('team-a').source).toBe('PlacementPolicy team-a/zz-first');
    expect(policyAllows(book.policyFor('team-a'), arm)).toBe(true);
    expect(book.verdicts().map((v) => [v.name, v.accepted, v.reason])).toEqual([['zz-first', true, 'InForce'], ['aa-second', false, 'Conflict']]);
    expect(statuses.at(-1)?.message).toBe('PlacementPolicy team-a/aa-second: ignored: namespace team-a already has zz-first (one policy per namespace: the oldest is in force)');
    // Same age: the first by name.
    book.upsert(pp('mm-same-age', '2026-01-01T00:00:00Z', ['linux/riscv64']));
    expect(book.policyFor('team-a').source).toBe('PlacementPolicy team-a/mm-same-age');
    book.remove(pp('mm-same-age', '', []));
    book.remove(pp('zz-first', '', []));
    expect(book.policyFor('team-a').source).toBe('PlacementPolicy team-a/aa-second');
    expect(book.verdicts()).toEqual([expect.objectContaining({ name: 'aa-second', accepted: true, reason: 'InForce' })]);
    expect(book.errors()).toEqual([]);
  });

  it('a verdict is reported once per change, not on every recomputation; an invalid version keeps its Invalid verdict while the last good one serves', () => {
    const statuses: PolicyStatus[] = [];
    const book = new PlacementPolicies('Block', () => undefined, (s) => statuses.push(s));
    book.upsert(pp('p', '2026-01-01T00:00:00Z', ['linux/arm64']));
    book.upsert({ kind: 'ClusterPlacementPolicy', metadata: { name: 'cluster' }, spec: {} });
    book.upsert({ kind: 'ClusterPlacementPolicy', metadata: { name: 'cluster' }, spec: { unreadableImages: 'Unconstrained' } });
    // Once alone, once with the cluster default beside it; not again when the cluster default's spec changes.
    expect(statuses.filter((s) => s.name === 'p').map((s) => s.message)).toEqual(['in force for namespace team-a (PlacementPolicy team-a/p)', 'in force for namespace team-a (ClusterPlacementPolicy cluster + PlacementPolicy team-a/p)']);
    book.upsert(pp('p', '2026-01-01T00:00:00Z', ['linux/sparc']));
    book.upsert({ kind: 'ClusterPlacementPolicy', metadata: { name: 'cluster' }, spec: {} });
    expect(book.verdicts().find((v) => v.name === 'p')).toEqual(expect.objectContaining({ accepted: false, reason: 'Invalid' }));
    expect(policyAllows(book.policyFor('team-a'), arm)).toBe(true);
    book.upsert({ kind: 'ClusterPlacementPolicy', metadata: { name: 'other' }, spec: {} });
    expect(book.verdicts().find((v) => v.name === 'other')).toEqual(expect.objectContaining({ accepted: false, reason: 'Ignored' }));
  });
});
