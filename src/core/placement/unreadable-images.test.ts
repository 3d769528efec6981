import { describe, expect, it } from 'vitest';
import { mergePlacementPolicies } from './namespace-policy.ts';
import { fallbackFromReleaseAfter, podAgeMs, unreadableVerdict, type UnreadableImage } from './unreadable-images.ts';

const permanent: UnreadableImage = { image: 'r/app:1', container: 'app', message: 'r/app:1: not found', transient: false };
const transient: UnreadableImage = { image: 'r/side:2', container: 'side', message: 'r/side:2: registry unreachable', transient: true };
const policy = (unreadableImages: 'Block' | 'Unconstrained') => {
  const r = mergePlacementPolicies(undefined, { namespace: 'team-a', name: 'p', spec: { unreadableImages } }, 'Block');
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('unreadableVerdict: the one fallback of the webhook, the gate controller, the extender and the scheduler', () => {
  const MIN = 60_000;
  it.each([
    { name: 'every image read: no verdict', policy: 'Block' as const, failures: [], age: 0, action: undefined },
    { name: 'Block, a permanent failure: held at once', policy: 'Block' as const, failures: [permanent], age: 0, action: 'block' },
    { name: 'Block, a transient failure: waits, however old', policy: 'Block' as const, failures: [transient], age: 60 * MIN, action: 'wait' },
    { name: 'Block, both: held (no retry cures the permanent one)', policy: 'Block' as const, failures: [transient, permanent], age: 0, action: 'block' },
    { name: 'Unconstrained, a permanent failure: unconstrained at once', policy: 'Unconstrained' as const, failures: [permanent], age: 0, action: 'unconstrained' },
    { name: 'Unconstrained, a transient failure, young: waits', policy: 'Unconstrained' as const, failures: [transient], age: 9 * MIN, action: 'wait' },
    { name: 'Unconstrained, a transient failure, old enough: unconstrained', policy: 'Unconstrained' as const, failures: [transient], age: 10 * MIN, action: 'unconstrained' },
    { name: 'Unconstrained, both, young: waits for the transient one', policy: 'Unconstrained' as const, failures: [permanent, transient], age: MIN, action: 'wait' },
  ])('$name', (c) => {
    const v = unreadableVerdict(policy(c.policy), fallbackFromReleaseAfter(0), c.failures, c.age);
    expect(v?.action).toBe(c.action);
    if (v?.action === 'unconstrained') expect(v.images).toEqual([...new Set(c.failures.map((f) => f.image))]);
    if (v?.action === 'block') expect(v.reason).toBe('held (unreadableImages: Block): container app: r/app:1: not found');
  });

  it('without a policy (or a pod the policy excludes): serve\'s --gate-release-after-ms decides', () => {
    expect(fallbackFromReleaseAfter(0)).toEqual({ action: 'Block', releaseAfterMs: 600_000 });
    expect(unreadableVerdict(undefined, fallbackFromReleaseAfter(0), [permanent], 0)?.action).toBe('block');
    expect(unreadableVerdict(undefined, fallbackFromReleaseAfter(5_000), [permanent], 0)?.action).toBe('unconstrained');
    expect(unreadableVerdict(undefined, fallbackFromReleaseAfter(5_000), [transient], 4_999)?.action).toBe('wait');
    expect(unreadableVerdict(undefined, fallbackFromReleaseAfter(5_000), [transient], 5_000)?.action).toBe('unconstrained');
  });

  it('a pod\'s age from its creationTimestamp (0 without one)', () => {
    expect(podAgeMs({ metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }, Date.parse('2026-01-01T00:01:00Z'))).toBe(60_000);
    expect(podAgeMs({ metadata: {} }, 123)).toBe(0);
    expect(podAgeMs({ metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }, Date.parse('2025-12-31T00:00:00Z'))).toBe(0);
  });
});

describe('unreadableVerdict: the reasons, as the pod\'s event and condition show them', () => {
  // Two containers on one image (named once), and a second image; every failure is described, in container order.
  const a1: UnreadableImage = { image: 'r/app:1', container: 'app', message: 'r/app:1: not found', transient: false };
  const a2: UnreadableImage = { image: 'r/app:1', container: 'helper', message: 'r/app:1: not found', transient: false };
  const side: UnreadableImage = { image: 'r/side:2', container: 'side', message: 'r/side:2: registry unreachable', transient: true };
  const side2: UnreadableImage = { image: 'r/db:3', container: 'db', message: 'r/db:3: 503 Service Unavailable', transient: true };
  const block = policy('Block');
  const open = policy('Unconstrained');
  const tenMin = fallbackFromReleaseAfter(0);

  it('Block: held, naming only the failures no retry cures; waiting, naming every image and failure', () => {
    expect(unreadableVerdict(block, tenMin, [a1, side, a2], 0)).toEqual({
      action: 'block', reason: 'held (unreadableImages: Block): container app: r/app:1: not found; container helper: r/app:1: not found',
    });
    expect(unreadableVerdict(block, tenMin, [side, side2], 0)).toEqual({
      action: 'wait', reason: 'waiting for the platforms of r/side:2, r/db:3: container side: r/side:2: registry unreachable; container db: r/db:3: 503 Service Unavailable',
    });
  });

  it('Unconstrained: at once for failures no retry cures, each image named once', () => {
    expect(unreadableVerdict(open, tenMin, [a1, a2], 0)).toEqual({
      action: 'unconstrained', images: ['r/app:1'],
      reason: 'no platform constraint from r/app:1 (unreadableImages: Unconstrained): container app: r/app:1: not found; container helper: r/app:1: not found',
    });
    const other: UnreadableImage = { image: 'r/tool:4', container: 'tool', message: 'r/tool:4: manifest unknown', transient: false };
    expect(unreadableVerdict(open, tenMin, [a1, other], 0)?.reason).toBe(
      'no platform constraint from r/app:1, r/tool:4 (unreadableImages: Unconstrained): container app: r/app:1: not found; container tool: r/tool:4: manifest unknown',
    );
  });

  it('Unconstrained: a transient failure waits, saying when it is released (in seconds), then is released saying after how long', () => {
    expect(unreadableVerdict(open, tenMin, [a1, side], 599_999)).toEqual({
      action: 'wait',
      reason: 'waiting for the platforms of r/app:1, r/side:2 (unreadableImages: Unconstrained releases it after 600 s): container app: r/app:1: not found; container side: r/side:2: registry unreachable',
    });
    expect(unreadableVerdict(open, tenMin, [side, side2], 754_400)).toEqual({
      action: 'unconstrained', images: ['r/side:2', 'r/db:3'],
      reason: 'no platform constraint from r/side:2, r/db:3 after 754 s (unreadableImages: Unconstrained): container side: r/side:2: registry unreachable; container db: r/db:3: 503 Service Unavailable',
    });
  });

  it('serve\'s --gate-release-after-ms above 0 is Unconstrained after that long; a pod without metadata is 0 ms old', () => {
    expect(fallbackFromReleaseAfter(5_000)).toEqual({ action: 'Unconstrained', releaseAfterMs: 5_000 });
    expect(podAgeMs({}, 123)).toBe(0);
    expect(podAgeMs({ metadata: null }, 123)).toBe(0);
  });
});
