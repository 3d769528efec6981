import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../k8s/types.ts';
import { advance, capture, FENCED_ANNOTATION, lostNodeTolerationSeconds, OUT_OF_SERVICE_TAINT, pinPlatform, viewNode, type NodeView, type Step } from './decide.ts';
import { SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import { DRAIN_TAINT } from './plan.ts';
import type { MigrationRecord } from './record.ts';

const T = Date.parse('2026-01-05T00:10:00Z');
const LOST_AT = '2026-01-05T00:07:00Z';
const lostNode = (extra: Partial<Node['metadata']> = {}): Node => ({
  metadata: { name: 'n', ...extra },
  spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: LOST_AT }] },
});
const notMissing = { sinceMs: T, graceMs: 30_000 };
const opts = { defaultTolerationSeconds: 300, recreateBarePods: true };

function pod(name: string, o: { owner?: string; uid?: string; tolerationSeconds?: number | null; annotations?: Record<string, string>; phase?: string } = {}): Pod {
  return {
    metadata: {
      name, namespace: 'ns', uid: o.uid ?? `uid-${name}`,
      ...(o.owner ? { ownerReferences: [{ kind: o.owner, name: 'owner', controller: true }] } : {}),
      annotations: { [SOURCE_IMAGES_ANNOTATION]: '{"c":"r/a:1"}', ...o.annotations },
    },
    spec: {
      nodeName: 'n', containers: [{ name: 'c', image: 'r/a@sha256:1' }],
      ...(o.tolerationSeconds !== undefined ? { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: o.tolerationSeconds }] } : {}),
    },
    ...(o.phase ? { status: { phase: o.phase } } : {}),
  };
}

const recordOf = (p: Pod, reason: 'node-lost' | 'drain' = 'node-lost', o = opts): MigrationRecord => {
  const c = capture(p, 'n', { reason }, o);
  if (c.kind !== 'record') throw new Error(`not recorded: ${c.kind}`);
  return c.record;
};
const lost: NodeView = { kind: 'lost', sinceMs: Date.parse(LOST_AT), fenced: false };
const summary = (s: Step): string => (s.action === 'cancel' ? `cancel` : `${s.action} ${s.status.phase}`);

describe('when a node is lost', () => {
  it('reads the node controller\'s NoExecute taint, fencing, deletion and drains', () => {
    expect(viewNode(lostNode(), T, notMissing)).toEqual({ kind: 'lost', sinceMs: Date.parse(LOST_AT), fenced: false });
    expect(viewNode(lostNode({ annotations: { [FENCED_ANNOTATION]: 'true' } }), T, notMissing)).toMatchObject({ kind: 'lost', fenced: true });
    const shutdown: Node = { metadata: { name: 'n' }, spec: { taints: [{ key: OUT_OF_SERVICE_TAINT, value: 'nodeshutdown', effect: 'NoExecute', timeAdded: LOST_AT }] } };
    expect(viewNode(shutdown, T, notMissing)).toMatchObject({ kind: 'lost', fenced: true });
    // A Node object missing: gone, confirmed only after the grace (a cache may lag).
    expect(viewNode(undefined, T, { sinceMs: T - 10_000, graceMs: 30_000 })).toEqual({ kind: 'gone', confirmed: false });
    expect(viewNode(undefined, T, { sinceMs: T - 30_000, graceMs: 30_000 })).toEqual({ kind: 'gone', confirmed: true });
    const drain = (unschedulable: boolean): Node => ({ metadata: { name: 'n' }, spec: { unschedulable, taints: [{ key: DRAIN_TAINT, effect: 'NoSchedule' }] } });
    expect(viewNode(drain(true), T, notMissing)).toEqual({ kind: 'draining' });
    // `kubectl uncordon` after a drain: the drain is over.
    expect(viewNode(drain(false), T, notMissing)).toEqual({ kind: 'uncordoned' });
    // A lost-node taint without timeAdded counts from the Ready condition's last transition,
    // else from now (so the toleration never runs out early).
    const noTime = (conditions?: { type: string; status: string; lastTransitionTime?: string }[]): Node => ({
      metadata: { name: 'n' }, spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }, ...(conditions ? { status: { conditions } } : {}),
    });
    expect(viewNode(noTime([{ type: 'Ready', status: 'False', lastTransitionTime: LOST_AT }]), T, notMissing)).toEqual({ kind: 'lost', sinceMs: Date.parse(LOST_AT), fenced: false });
    expect(viewNode(noTime(), T, notMissing)).toEqual({ kind: 'lost', sinceMs: T, fenced: false });
    // Not Ready alone (no taint yet) is not lost: the node controller decides, with its grace.
    expect(viewNode({ metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }, T, notMissing)).toEqual({ kind: 'ready' });
  });

  it('moves each pod after its own toleration (the default for pods without one), never before', () => {
    expect(lostNodeTolerationSeconds(pod('a'), 300)).toBe(300);
    expect(lostNodeTolerationSeconds(pod('a', { tolerationSeconds: 60 }), 300)).toBe(60);
    expect(lostNodeTolerationSeconds(pod('a', { tolerationSeconds: null }), 300)).toBeNull();
    // Several tolerations of the taint: the taint manager's minimum (getMinTolerationTime); one
    // without seconds does not make the others last for ever; a negative one is 0.
    const tolerating = (...secs: (number | undefined)[]): Pod => ({
      ...pod('m'),
      spec: { ...pod('m').spec, tolerations: secs.map((s) => ({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(s === undefined ? {} : { tolerationSeconds: s }) })) },
    });
    expect(lostNodeTolerationSeconds(tolerating(600, 30, 120), 300)).toBe(30);
    expect(lostNodeTolerationSeconds(tolerating(undefined, 45), 300)).toBe(45);
    expect(lostNodeTolerationSeconds(tolerating(-5, 45), 300)).toBe(0);
    expect(lostNodeTolerationSeconds(tolerating(undefined, undefined), 300)).toBeNull();
    const ownedDefault = recordOf(pod('d', { owner: 'ReplicaSet' }));
    const ownedShort = recordOf(pod('s', { owner: 'ReplicaSet', tolerationSeconds: 60 }));
    // Lost for 180 s: the default 300 s is not over, 60 s is.
    expect(summary(advance(ownedDefault, { pod: pod('d', { owner: 'ReplicaSet' }), node: lost, nowMs: T }))).toBe('none Pending');
    const step = advance(ownedShort, { pod: pod('s', { owner: 'ReplicaSet' }), node: lost, nowMs: T });
    expect(summary(step)).toBe('delete Succeeded');
    const forever = recordOf(pod('f', { owner: 'ReplicaSet', tolerationSeconds: null }));
    expect(summary(advance(forever, { pod: pod('f', { owner: 'ReplicaSet' }), node: lost, nowMs: T + 86_400_000 }))).toBe('none Pending');
  });

  it('cancels a move when the node comes back before the toleration ran out', () => {
    const r = recordOf(pod('d', { owner: 'ReplicaSet' }));
    expect(advance(r, { pod: pod('d', { owner: 'ReplicaSet' }), node: { kind: 'ready' }, nowMs: T })).toMatchObject({ action: 'cancel', event: { reason: 'MigrationCancelled' } });
  });
});

describe('how each pod moves', () => {
  it('leaves DaemonSet, mirror and finished pods where they are', () => {
    expect(capture(pod('ds', { owner: 'DaemonSet' }), 'n', { reason: 'node-lost' }, opts).kind).toBe('stays');
    expect(capture(pod('m', { annotations: { 'kubernetes.io/config.mirror': 'abc' } }), 'n', { reason: 'drain' }, opts).kind).toBe('stays');
    expect(capture(pod('done', { phase: 'Succeeded' }), 'n', { reason: 'drain' }, opts).kind).toBe('stays');
    expect(capture(pod('failed', { phase: 'Failed' }), 'n', { reason: 'node-lost' }, opts)).toEqual({ kind: 'stays', reason: 'finished (Failed)' });
    // Running and pending pods move.
    expect(capture(pod('run', { phase: 'Running' }), 'n', { reason: 'drain' }, opts).kind).toBe('record');
    expect(capture(pod('wait', { phase: 'Pending' }), 'n', { reason: 'drain' }, opts).kind).toBe('record');
  });

  it('replaces a StatefulSet pod on a lost node only once the node is deleted or fenced, whatever its toleration', () => {
    const sts = pod('db-0', { owner: 'StatefulSet', tolerationSeconds: 0 });
    const r = recordOf(sts);
    expect(r.spec.method).toBe('delete');
    const waiting = advance(r, { pod: sts, node: lost, nowMs: T + 3_600_000 });
    expect(summary(waiting)).toBe('none Pending');
    expect(waiting.action === 'none' && waiting.status.message).toContain('confirmed gone');
    expect(summary(advance(r, { pod: sts, node: { ...lost, fenced: true }, nowMs: T }))).toBe('delete WaitingForReplacement');
    expect(summary(advance(r, { pod: sts, node: { kind: 'gone', confirmed: false }, nowMs: T }))).toBe('none Pending');
    expect(summary(advance(r, { pod: sts, node: { kind: 'gone', confirmed: true }, nowMs: T }))).toBe('delete WaitingForReplacement');
    // Gone: the StatefulSet re-creates it under the same name; placed, it has moved.
    expect(summary(advance(r, { pod: undefined, node: { kind: 'gone', confirmed: true }, nowMs: T }))).toBe('none WaitingForReplacement');
    const back: Pod = { ...sts, metadata: { ...sts.metadata, uid: 'uid-new' }, spec: { ...sts.spec, nodeName: 'm' } };
    expect(summary(advance(r, { pod: back, node: { kind: 'gone', confirmed: true }, nowMs: T }))).toBe('none Succeeded');
  });

  it('captures a bare pod whole when the loss is first seen, and re-creates it even after pod GC removed it', () => {
    const bare = pod('solo');
    const r = recordOf(bare);
    expect(r.spec.method).toBe('recreate');
    expect((r.spec.template as Pod).spec.containers[0]?.image).toBe('r/a:1');
    expect((r.spec.template as Pod).spec.nodeName).toBeUndefined();
    // Pod GC deleted it (node gone): the record alone is enough.
    const step = advance(r, { pod: undefined, node: { kind: 'gone', confirmed: false }, nowMs: T });
    expect(step.action).toBe('create');
    expect(step.action === 'create' && step.pod.metadata.name).toBe('solo');
    // Without recreateBarePods (Kubernetes alone) it is deleted and gone.
    const kube = recordOf(bare, 'node-lost', { ...opts, recreateBarePods: false });
    expect(kube.spec.method).toBe('evict');
    expect(advance(kube, { pod: bare, node: lost, nowMs: T + 300_000 })).toMatchObject({ action: 'delete', status: { phase: 'Succeeded' } });
  });

  it('is Blocked, with the scheduler\'s reason and an event, when the replacement can run nowhere', () => {
    const r = recordOf(pod('solo'));
    const pending: Pod = { ...pod('solo', { uid: 'uid-2' }), spec: { containers: [{ name: 'c', image: 'r/a:1' }] }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 node(s) had no variant for the pod\'s images' }] } };
    const step = advance(r, { pod: pending, node: { kind: 'gone', confirmed: true }, nowMs: T });
    expect(step).toMatchObject({ action: 'none', status: { phase: 'Blocked', replacement: 'solo' }, event: { type: 'Warning', reason: 'MigrationBlocked' } });
    expect(step.action === 'none' && step.status.message).toContain('no variant');
    // Not yet tried by the scheduler: waiting, not blocked.
    const fresh: Pod = { ...pending, status: { phase: 'Pending' } };
    expect(summary(advance(r, { pod: fresh, node: { kind: 'gone', confirmed: true }, nowMs: T }))).toBe('none WaitingForReplacement');
  });

  it('drains through evictions and cancels moves not yet made when the drain is undone', () => {
    const owned = pod('w', { owner: 'ReplicaSet' });
    const r = recordOf(owned, 'drain');
    expect(r.spec.tolerationSeconds).toBeUndefined();
    expect(summary(advance(r, { pod: owned, node: { kind: 'draining' }, nowMs: T }))).toBe('evict Succeeded');
    expect(summary(advance(r, { pod: owned, node: { kind: 'uncordoned' }, nowMs: T }))).toBe('cancel');
    expect(summary(advance(r, { pod: owned, node: { kind: 'ready' }, nowMs: T }))).toBe('cancel');
    // Already evicted (terminating): it goes on.
    const leaving: Pod = { ...owned, metadata: { ...owned.metadata, deletionTimestamp: LOST_AT } };
    expect(summary(advance(r, { pod: leaving, node: { kind: 'ready' }, nowMs: T }))).toBe('none WaitingForReplacement');
  });
});

describe('exec format errors', () => {
  it('moves a bare pod from a live node by re-creating it, whatever recreateBarePods says', () => {
    const c = capture(pod('p'), 'n', { reason: 'exec-format-error' }, { ...opts, recreateBarePods: false });
    expect(c.kind === 'record' && [c.record.spec.reason, c.record.spec.method]).toEqual(['exec-format-error', 'recreate']);
    if (c.kind !== 'record') return;
    // Not Ready (it cannot start): deleted, then re-created from its source images.
    const step = advance(c.record, { pod: pod('p'), node: { kind: 'ready' }, nowMs: T });
    expect(step.action === 'delete' && step.status.phase).toBe('WaitingForReplacement');
  });

  it('deletes a crash-looping controlled pod instead of evicting it (no budget counts an unready pod); a Ready one is evicted', () => {
    const c = capture(pod('p', { owner: 'ReplicaSet' }), 'n', { reason: 'exec-format-error' }, opts);
    if (c.kind !== 'record') throw new Error(c.kind);
    const crashLooping = advance(c.record, { pod: pod('p', { owner: 'ReplicaSet' }), node: { kind: 'ready' }, nowMs: T });
    expect(crashLooping).toMatchObject({ action: 'delete', status: { phase: 'Succeeded' }, event: { reason: 'Migrated' } });
    expect(crashLooping.action === 'delete' && crashLooping.status.message).toMatch(/not evicted: .*exec format error.*not Ready/);
    const ready: Pod = { ...pod('p', { owner: 'ReplicaSet' }), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(advance(c.record, { pod: ready, node: { kind: 'ready' }, nowMs: T }).action).toBe('evict');
    // Other reasons keep going through the eviction API, Ready or not.
    const drained = recordOf(pod('q', { owner: 'ReplicaSet' }), 'drain');
    expect(advance(drained, { pod: pod('q', { owner: 'ReplicaSet' }), node: { kind: 'draining' }, nowMs: T }).action).toBe('evict');
  });

  it('holds a record whose spec says why the pod cannot move: the pod stays, the record is Blocked (an event the first time)', () => {
    const c = capture(pod('p', { owner: 'ReplicaSet' }), 'n', { reason: 'exec-format-error' }, opts);
    if (c.kind !== 'record') throw new Error(c.kind);
    // As read back from a cluster: the status sent with the create was dropped.
    const held: MigrationRecord = { name: c.record.name, spec: { ...c.record.spec, heldReason: 'runs nowhere' } };
    const first = advance(held, { pod: pod('p', { owner: 'ReplicaSet' }), node: { kind: 'ready' }, nowMs: T });
    expect(first).toEqual({ action: 'none', status: { phase: 'Blocked', message: 'runs nowhere', attempts: 0 }, event: { type: 'Warning', reason: 'MigrationBlocked', message: 'runs nowhere' } });
    const again = advance({ ...held, status: first.action === 'none' ? first.status : undefined }, { pod: pod('p', { owner: 'ReplicaSet' }), node: { kind: 'ready' }, nowMs: T });
    expect(again).toEqual({ action: 'none', status: { phase: 'Blocked', message: 'runs nowhere', attempts: 0 } });
    // Without the hold the same record moves the (crash-looping, unready) pod: deleted.
    expect(advance({ name: held.name, spec: c.record.spec }, { pod: pod('p', { owner: 'ReplicaSet' }), node: { kind: 'ready' }, nowMs: T }).action).toBe('delete');
  });
});

describe('manual moves', () => {
  it('replaces the architecture a pod was pinned to instead of adding a second one', () => {
    const first = pinPlatform(pod('solo'), 'linux/arm64');
    if (!first.ok) throw new Error(first.error);
    const second = pinPlatform(first.value, 'linux/amd64');
    if (!second.ok) throw new Error(second.error);
    expect(second.value.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }, { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
    ]);
    // A nodeSelector that names another architecture would make the pod unschedulable: it goes.
    const selected: Pod = { ...pod('solo'), spec: { ...pod('solo').spec, nodeSelector: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'windows', disk: 'ssd' } } };
    const moved = pinPlatform(selected, 'linux/amd64');
    expect(moved.ok && moved.value.spec.nodeSelector).toEqual({ disk: 'ssd' });
    // A selector of only the platform labels goes entirely.
    const only: Pod = { ...pod('solo'), spec: { ...pod('solo').spec, nodeSelector: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux' } } };
    const movedOnly = pinPlatform(only, 'linux/amd64');
    expect(movedOnly.ok && movedOnly.value.spec.nodeSelector).toBeUndefined();
    // Other terms' expressions stay, with the platform replaced in each term.
    const terms: Pod = {
      ...pod('solo'),
      spec: {
        ...pod('solo').spec,
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
          { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }, { key: 'kubernetes.io/os', operator: 'In', values: ['windows'] }] },
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
        ] } } },
      },
    };
    const movedTerms = pinPlatform(terms, 'linux/riscv64');
    const platformExprs = [{ key: 'kubernetes.io/arch', operator: 'In', values: ['riscv64'] }, { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }];
    expect(movedTerms.ok && movedTerms.value.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }, ...platformExprs] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, ...platformExprs] },
    ]);
    expect(pinPlatform(pod('solo'), 'linux//x')).toMatchObject({ ok: false });
  });

  it('records the pinned replacement of a manual move', () => {
    const c = capture(pod('solo'), 'n', { reason: 'manual', toPlatform: 'linux/arm64' }, opts);
    expect(c.kind).toBe('record');
    if (c.kind !== 'record') return;
    expect(c.record.spec).toMatchObject({ reason: 'manual', method: 'recreate', toPlatform: 'linux/arm64' });
    expect(JSON.stringify((c.record.spec.template as Pod).spec.affinity)).toContain('arm64');
  });
});
