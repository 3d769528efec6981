import { describe, expect, it } from 'vitest';
import { defaultTolerations, markUnreachable, markedUnreachable, nodeUnheard, reachableTaints, taintEvictionAt } from './node-lifecycle.ts';

const T0 = Date.UTC(2026, 0, 5, 6);
const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-05T06:00:00Z' };

describe('the node lifecycle controller', () => {
  it('marks a node unheard past the grace: every condition Unknown, unreachable NoSchedule + NoExecute replacing not-ready', () => {
    expect(nodeUnheard(T0, T0 + 40_000)).toBe(false);
    expect(nodeUnheard(T0, T0 + 40_001)).toBe(true);
    const m = markUnreachable([{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-05T05:59:00Z' }], [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }, { key: 'x', effect: 'NoSchedule' }], T0);
    expect(m.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'Unknown', 'NodeStatusUnknown'], ['MemoryPressure', 'Unknown', 'NodeStatusUnknown'], ['DiskPressure', 'Unknown', 'NodeStatusUnknown'], ['PIDPressure', 'Unknown', 'NodeStatusUnknown'],
    ]);
    expect(m.conditions[0]).toMatchObject({ message: 'Kubelet stopped posting node status.', lastHeartbeatTime: '2026-01-05T05:59:00Z', lastTransitionTime: '2026-01-05T06:00:00Z' });
    expect(m.taints).toEqual([{ key: 'x', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, unreachable]);
    expect(markedUnreachable(m.conditions, m.taints)).toBe(true);
    expect(reachableTaints(m.taints)).toEqual([{ key: 'x', effect: 'NoSchedule' }]);
    // Marked again later: a condition already Unknown keeps its transition time (the node has not changed state).
    const again = markUnreachable(m.conditions, m.taints, T0 + 60_000);
    expect(again.conditions[0]).toEqual(m.conditions[0]);
    expect(again.taints.filter((t) => t.key === 'node.kubernetes.io/unreachable')).toHaveLength(2);
  });
});

describe('the taint manager', () => {
  it('evicts at once without a toleration, after the smallest bounded tolerationSeconds, never when unbounded', () => {
    expect(taintEvictionAt([unreachable], [], T0 + 5)).toBe(T0 + 5);
    expect(taintEvictionAt([unreachable], defaultTolerations([]), T0 + 5)).toBe(T0 + 300_000);
    expect(taintEvictionAt([unreachable], [{ operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }, { key: unreachable.key, operator: 'Exists', tolerationSeconds: 30 }], T0)).toBe(T0 + 30_000);
    expect(taintEvictionAt([unreachable], [{ operator: 'Exists' }], T0)).toBe(Infinity);
    expect(taintEvictionAt([{ key: 'x', effect: 'NoSchedule' }], [], T0)).toBe(Infinity);
    // Each taint from its own timeAdded (none: from now); the earliest eviction of all wins.
    const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
    const both = [{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 100 }, { key: notReady.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 20 }];
    expect(taintEvictionAt([unreachable, notReady], both, T0 + 50_000)).toBe(T0 + 50_000 + 20_000);
    expect(taintEvictionAt([unreachable], both, T0 + 50_000)).toBe(T0 + 100_000);
  });

  it('DefaultTolerationSeconds adds 300 s for not-ready and unreachable unless the pod has them', () => {
    expect(defaultTolerations([]).map((t) => [t.key, t.tolerationSeconds])).toEqual([['node.kubernetes.io/not-ready', 300], ['node.kubernetes.io/unreachable', 300]]);
    expect(defaultTolerations([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }]).map((t) => t.key)).toEqual(['node.kubernetes.io/not-ready']);
    // A toleration without effect, or with an empty key (operator Exists: every taint), counts as the plugin's does.
    expect(defaultTolerations([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }]).map((t) => t.key)).toEqual(['node.kubernetes.io/unreachable']);
    expect(defaultTolerations([{ key: '', operator: 'Exists' }])).toEqual([]);
    expect(defaultTolerations([{ operator: 'Exists', effect: 'NoExecute' }])).toEqual([]);
    // Another effect does not.
    expect(defaultTolerations([{ operator: 'Exists', effect: 'NoSchedule' }])).toHaveLength(2);
  });
});
