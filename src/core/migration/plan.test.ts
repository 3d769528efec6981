import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../k8s/types.ts';
import { DRAIN_TAINT, nodeTrouble, planMoves, replacementPod } from './plan.ts';
import { SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';

const T = Date.parse('2026-01-05T00:10:00Z');
const lostNode: Node = { metadata: { name: 'n' }, spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-05T00:07:00Z' }] } };
const pod = (name: string, extra: Partial<Pod['spec']> = {}, owned = false): Pod => ({
  metadata: { name, namespace: 'ns', ...(owned ? { ownerReferences: [{ kind: 'Deployment', name: 'd', controller: true }] } : {}) },
  spec: { nodeName: 'n', containers: [{ name: 'c', image: 'r/a@sha256:1' }], ...extra },
});

describe('migration plan', () => {
  it('reads the trouble from the taints: lost since the taint was added, or draining', () => {
    expect(nodeTrouble(lostNode, T)).toEqual({ kind: 'lost', sinceMs: Date.parse('2026-01-05T00:07:00Z') });
    expect(nodeTrouble({ metadata: { name: 'd' }, spec: { taints: [{ key: DRAIN_TAINT, effect: 'NoSchedule' }] } }, T)).toEqual({ kind: 'draining' });
    expect(nodeTrouble({ metadata: { name: 'ok' } }, T)).toBeUndefined();
  });

  it('waits out the toleration (the default or the pod\'s own), then deletes; re-creates only bare pods', () => {
    const moves = planMoves(lostNode, { kind: 'lost', sinceMs: T - 180_000 }, [
      pod('a'),
      pod('b', {}, true),
      pod('c', { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }),
    ], T, { evictionTimeoutMs: 300_000, recreateBarePods: true });
    expect(moves.map((m) => [m.pod, m.action, m.recreate])).toEqual([['ns/a', 'wait', true], ['ns/b', 'wait', false], ['ns/c', 'delete', true]]);
    const drain = planMoves({ metadata: { name: 'n' } }, { kind: 'draining' }, [pod('a')], T, { evictionTimeoutMs: 300_000, recreateBarePods: false });
    expect(drain).toEqual([{ pod: 'ns/a', node: 'n', action: 'evict', recreate: false, reason: 'node n is being drained' }]);
  });

  it('builds the replacement from the recorded source images, unbound, with where it came from', () => {
    const p = pod('a');
    const withSource: Pod = { ...p, metadata: { ...p.metadata, annotations: { [SOURCE_IMAGES_ANNOTATION]: '{"c":"r/a:1"}', 'polyarch.io/platform': 'linux/arm64/v8' } } };
    const r = replacementPod(withSource, 'n');
    if (!r.ok) throw new Error(r.error);
    expect(r.value.spec.containers[0]?.image).toBe('r/a:1');
    expect(r.value.spec.nodeName).toBeUndefined();
    expect(r.value.metadata.annotations).toEqual({ [SOURCE_IMAGES_ANNOTATION]: '{"c":"r/a:1"}', 'polyarch.io/migrated-from': 'n' });
    const bad: Pod = { ...p, metadata: { ...p.metadata, annotations: { [SOURCE_IMAGES_ANNOTATION]: '[1' } } };
    expect(replacementPod(bad, 'n')).toEqual({ ok: false, error: `pod ns/a: annotation ${SOURCE_IMAGES_ANNOTATION} is not JSON` });
  });
});
