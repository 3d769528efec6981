import { describe, expect, it } from 'vitest';
import { parsePlatform } from '../platform/platform.ts';
import { policyAllows } from './namespace-policy.ts';
import { PlacementPolicies, type PlacementPolicyObject, type PolicyError, type PolicyStatus } from './policy-book.ts';

const platform = (t: string) => {
  const p = parsePlatform(t);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};
const arm = platform('linux/arm64');
const amd = platform('linux/amd64');
const pp = (namespace: string, name: string, spec: unknown, created = '2026-01-01T00:00:00Z'): PlacementPolicyObject => ({
  kind: 'PlacementPolicy', metadata: { namespace, name, creationTimestamp: created }, spec,
});
const cpp = (spec: unknown, name = 'cluster'): PlacementPolicyObject => ({ kind: 'ClusterPlacementPolicy', metadata: { name }, spec });
const recorded = () => {
  const errors: PolicyError[] = [];
  const statuses: PolicyStatus[] = [];
  const book = new PlacementPolicies('Block', (e) => errors.push(e), (s) => statuses.push(s));
  return { book, errors, statuses };
};
const noPolicy = { platforms: undefined, preferences: [], unreadableImages: 'Block', exclude: [], source: 'no policy' };

describe('the policy book: the cluster default', () => {
  it('before any object: the built-in default, for every namespace', () => {
    const { book } = recorded();
    expect(book.policyFor('team-a')).toEqual(noPolicy);
    expect(new PlacementPolicies('Unconstrained').policyFor('')).toEqual({ ...noPolicy, unreadableImages: 'Unconstrained' });
  });

  it('the ClusterPlacementPolicy named cluster is every namespace\'s default, replaced when it changes and gone when it is deleted', () => {
    const { book, statuses } = recorded();
    expect(book.policyFor('team-a').source).toBe('no policy');
    book.upsert(cpp({ platforms: ['linux/amd64'] }));
    expect(book.policyFor('team-a').source).toBe('ClusterPlacementPolicy cluster');
    expect(policyAllows(book.policyFor('team-b'), arm)).toBe(false);
    book.upsert(cpp({ platforms: ['linux/arm64'] }));
    expect(policyAllows(book.policyFor('team-b'), arm)).toBe(true);
    expect(book.verdicts()).toEqual([{ kind: 'ClusterPlacementPolicy', name: 'cluster', accepted: true, reason: 'InForce', message: 'the cluster default of every namespace' }]);
    expect(statuses).toHaveLength(1);
    book.remove(cpp({}));
    expect(book.policyFor('team-b')).toEqual(noPolicy);
    expect(book.verdicts()).toEqual([]);
  });

  it('a namespace\'s merged policy follows the cluster default', () => {
    const { book } = recorded();
    book.upsert(pp('team-a', 'p', { preferences: [{ platform: 'linux/arm64', weight: 10 }] }));
    expect(book.policyFor('team-a').unreadableImages).toBe('Block');
    book.upsert(cpp({ unreadableImages: 'Unconstrained' }));
    expect(book.policyFor('team-a')).toEqual(expect.objectContaining({ unreadableImages: 'Unconstrained', source: 'ClusterPlacementPolicy cluster + PlacementPolicy team-a/p' }));
  });

  it('another ClusterPlacementPolicy is ignored, reported once, and forgotten when deleted; deleting it leaves the cluster default alone', () => {
    const { book, errors } = recorded();
    book.upsert(cpp({ platforms: ['linux/arm64'] }));
    book.upsert(cpp({ platforms: ['linux/amd64'] }, 'other'));
    book.upsert(cpp({ platforms: ['linux/amd64'] }, 'other'));
    const message = 'ClusterPlacementPolicy other: ignored: only the one named "cluster" is read';
    expect(errors).toEqual([{ kind: 'ClusterPlacementPolicy', name: 'other', message }]);
    expect(book.errors()).toEqual([{ kind: 'ClusterPlacementPolicy', name: 'other', message }]);
    expect(book.verdicts()).toContainEqual({ kind: 'ClusterPlacementPolicy', name: 'other', accepted: false, reason: 'Ignored', message });
    expect(policyAllows(book.policyFor('team-a'), arm)).toBe(true);
    book.remove(cpp({}, 'other'));
    expect(book.errors()).toEqual([]);
    expect(book.verdicts().map((v) => v.name)).toEqual(['cluster']);
    expect(book.policyFor('team-a').source).toBe('ClusterPlacementPolicy cluster');
  });
});

describe('the policy book: invalid objects', () => {
  it('are refused naming the object and the field (the cluster-scoped one without a namespace), the last good version serving; fixed, they are in force again', () => {
    const { book, errors } = recorded();
    book.upsert(cpp({ platforms: ['linux/amd64', 'linux/arm64'] }));
    book.upsert(cpp({ platforms: ['linux/sparc'] }));
    const clusterMessage = 'ClusterPlacementPolicy cluster: spec.platforms[0]: not a platform (want os/arch[/variant], e.g. linux/arm64 or linux/amd64/v3); the last good policy stays in force';
    expect(book.errors()).toEqual([{ kind: 'ClusterPlacementPolicy', name: 'cluster', message: clusterMessage }]);
    expect(book.verdicts()).toEqual([{ kind: 'ClusterPlacementPolicy', name: 'cluster', accepted: false, reason: 'Invalid', message: clusterMessage }]);
    expect(policyAllows(book.policyFor('x'), arm)).toBe(true);

    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'] }));
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'], unreadableImages: 'Sometimes' }));
    const nsMessage = 'PlacementPolicy team-a/p: spec.unreadableImages: Invalid option: expected one of "Block"|"Unconstrained"; the last good policy stays in force';
    expect(book.errors()).toContainEqual({ kind: 'PlacementPolicy', namespace: 'team-a', name: 'p', message: nsMessage });
    expect(book.verdicts()).toContainEqual({ kind: 'PlacementPolicy', namespace: 'team-a', name: 'p', accepted: false, reason: 'Invalid', message: nsMessage });
    expect(policyAllows(book.policyFor('team-a'), amd)).toBe(false);

    // Sent again unchanged (an informer's resync): no second report.
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'], unreadableImages: 'Sometimes' }));
    expect(errors.map((e) => e.message)).toEqual([clusterMessage, nsMessage]);
    // Another invalid version: its own error.
    book.upsert(pp('team-a', 'p', { platforms: [] }));
    expect(book.verdicts().find((v) => v.name === 'p')?.message).toBe('PlacementPolicy team-a/p: spec.platforms: Too small: expected array to have >=1 items; the last good policy stays in force');

    book.upsert(cpp({ platforms: ['linux/arm64'] }));
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'], unreadableImages: 'Unconstrained' }));
    expect(book.errors()).toEqual([]);
    expect(book.verdicts()).toEqual([
      { kind: 'ClusterPlacementPolicy', name: 'cluster', accepted: true, reason: 'InForce', message: 'the cluster default of every namespace' },
      { kind: 'PlacementPolicy', namespace: 'team-a', name: 'p', accepted: true, reason: 'InForce', message: 'in force for namespace team-a (ClusterPlacementPolicy cluster + PlacementPolicy team-a/p)' },
    ]);
    expect(book.policyFor('team-a').unreadableImages).toBe('Unconstrained');
  });

  it('an object without metadata (nothing a real API server sends) is judged under an empty name, and forgotten when deleted the same way', () => {
    const { book } = recorded();
    book.upsert({ kind: 'ClusterPlacementPolicy', metadata: null, spec: {} });
    expect(book.errors()).toEqual([{ kind: 'ClusterPlacementPolicy', name: '', message: 'ClusterPlacementPolicy : ignored: only the one named "cluster" is read' }]);
    book.remove({ kind: 'ClusterPlacementPolicy', metadata: null });
    book.upsert({ kind: 'PlacementPolicy', metadata: null, spec: { platforms: 'linux/arm64' } });
    expect(book.errors()).toEqual([{ kind: 'PlacementPolicy', name: '', message: 'PlacementPolicy /: spec.platforms: Invalid input: expected array, received string; the last good policy stays in force' }]);
    book.remove({ kind: 'PlacementPolicy', metadata: {} });
    expect(book.errors()).toEqual([]);
    book.upsert({ kind: 'PlacementPolicy', metadata: null, spec: {} });
    book.remove({ kind: 'PlacementPolicy', metadata: null });
    expect(book.verdicts()).toEqual([]);
    expect(book.policyFor('team-a')).toEqual(noPolicy);
  });
});

describe('the policy book: one policy per namespace', () => {
  it('of two the same age, the first by name, whichever came first', () => {
    for (const order of [['aa', 'mm'], ['mm', 'aa']]) {
      const { book } = recorded();
      for (const name of order) book.upsert(pp('team-a', name, { platforms: [name === 'aa' ? 'linux/arm64' : 'linux/amd64'] }));
      expect(book.policyFor('team-a').source, order.join()).toBe('PlacementPolicy team-a/aa');
    }
  });

  it('a policy without creationTimestamp (a scenario\'s) counts as older than any with one', () => {
    const { book } = recorded();
    book.upsert(pp('team-a', 'aa', {}, '2026-01-01T00:00:00Z'));
    book.upsert({ kind: 'PlacementPolicy', metadata: { namespace: 'team-a', name: 'zz' }, spec: {} });
    expect(book.policyFor('team-a').source).toBe('PlacementPolicy team-a/zz');
  });

  it('a refused policy is reported once, however often the namespace is recomputed, and again when what it conflicts with changes', () => {
    const { book, errors, statuses } = recorded();
    book.upsert(pp('team-a', 'first', {}, '2026-01-02T00:00:00Z'));
    book.upsert(pp('team-a', 'second', {}, '2026-01-03T00:00:00Z'));
    book.upsert(cpp({}));
    book.upsert(cpp({ unreadableImages: 'Block' }));
    const conflict = (holder: string) => `PlacementPolicy team-a/second: ignored: namespace team-a already has ${holder} (one policy per namespace: the oldest is in force)`;
    expect(errors.map((e) => e.message)).toEqual([conflict('first')]);
    expect(book.errors()).toEqual([{ kind: 'PlacementPolicy', namespace: 'team-a', name: 'second', message: conflict('first') }]);
    // An older one arrives: both others are refused, and `second`'s verdict names the new holder.
    book.upsert(pp('team-a', 'zeroth', {}, '2026-01-01T00:00:00Z'));
    expect(book.verdicts().filter((v) => !v.accepted).map((v) => v.message).sort()).toEqual([
      'PlacementPolicy team-a/first: ignored: namespace team-a already has zeroth (one policy per namespace: the oldest is in force)', conflict('zeroth'),
    ]);
    expect(statuses.filter((s) => s.name === 'second').map((s) => s.message)).toEqual([conflict('first'), conflict('zeroth')]);
  });

  it('a namespace whose last policy is deleted is served the cluster default itself, and a policy in a namespace never seen is deleted quietly', () => {
    const { book } = recorded();
    book.upsert(cpp({ platforms: ['linux/arm64', 'linux/amd64'] }));
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'] }));
    expect(book.policyFor('team-a')).not.toBe(book.policyFor('elsewhere'));
    book.remove(pp('team-a', 'p', {}));
    expect(book.policyFor('team-a')).toBe(book.policyFor('elsewhere'));
    book.remove(pp('team-z', 'p', {}));
    expect(book.errors()).toEqual([]);
    expect(book.verdicts().map((v) => v.name)).toEqual(['cluster']);
    expect(book.policyFor('team-z')).toBe(book.policyFor('elsewhere'));
  });
});

describe('the policy book: a namespace policy that shares no platform with the cluster default', () => {
  const failed = 'ClusterPlacementPolicy cluster + PlacementPolicy team-a/p: spec.platforms: [linux/arm64] allows none of the cluster\'s platforms [linux/amd64]; the last good policy stays in force';

  it('is refused (MergeFailed) once, while the namespace keeps its last good merge; fixed, it is in force and the problem gone', () => {
    const { book, errors } = recorded();
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'] }));
    book.upsert(cpp({ platforms: ['linux/amd64'] }));
    expect(book.verdicts()).toContainEqual({ kind: 'PlacementPolicy', namespace: 'team-a', name: 'p', accepted: false, reason: 'MergeFailed', message: failed });
    expect(book.errors()).toEqual([{ kind: 'PlacementPolicy', namespace: 'team-a', name: 'p', message: failed }]);
    expect(policyAllows(book.policyFor('team-a'), arm)).toBe(true);
    expect(book.policyFor('team-a').source).toBe('PlacementPolicy team-a/p');
    expect(book.policyFor('elsewhere').source).toBe('ClusterPlacementPolicy cluster');
    // The cluster default sent again, and another namespace's policy: not reported again.
    book.upsert(cpp({ platforms: ['linux/amd64'] }));
    book.upsert(pp('team-b', 'q', {}));
    expect(errors.map((e) => e.message)).toEqual([failed]);

    book.upsert(cpp({ platforms: ['linux/amd64', 'linux/arm64'] }));
    expect(book.errors()).toEqual([]);
    expect(book.policyFor('team-a').source).toBe('ClusterPlacementPolicy cluster + PlacementPolicy team-a/p');
    expect(book.verdicts().find((v) => v.name === 'p')?.reason).toBe('InForce');
  });

  it('created while it conflicts: the namespace is served the cluster default, which stays as it was', () => {
    const { book } = recorded();
    book.upsert(cpp({ platforms: ['linux/amd64'] }));
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'] }));
    expect(book.errors().map((e) => e.message)).toEqual([failed]);
    expect(book.policyFor('team-a').source).toBe('ClusterPlacementPolicy cluster');
    expect(book.policyFor('').source).toBe('ClusterPlacementPolicy cluster');
    expect(policyAllows(book.policyFor('team-a'), amd)).toBe(true);
  });

  it('deleted, its problem goes with it', () => {
    const { book } = recorded();
    book.upsert(cpp({ platforms: ['linux/amd64'] }));
    book.upsert(pp('team-a', 'p', { platforms: ['linux/arm64'] }));
    book.remove(pp('team-a', 'p', {}));
    expect(book.errors()).toEqual([]);
    expect(book.verdicts().map((v) => v.name)).toEqual(['cluster']);
  });
});
