/** A full cluster: reclaim by the method's score, generations, and increases the node cannot take. */
import { afterEach, describe, expect, it } from 'vitest';
import { amountOf } from '../../src/core/units/amounts.ts';
import { Harness, Mi } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const flatMem = (): number => 100 * Mi;

describe('autoscaler reclaim end to end', () => {
  it('reclaims from the highest-scoring application first when the cluster has no room', async () => {
    h = await Harness.start([{ name: 'n1', cpu: '4', memory: '16Gi' }]);
    // Busy until 5 minutes ago, idle since: young surplus.
    const drop = (m: number): number => (m < 15 ? 1.3 : 0.15);
    await h.addApp('hungry', { node: 'n1', cpu: '1', memory: '256Mi', cpuUse: (m) => 0.5 + 0.025 * m, memUse: flatMem });
    await h.addApp('low', { node: 'n1', cpu: '1500m', memory: '256Mi', cpuUse: drop, memUse: flatMem });
    await h.addApp('high', { node: 'n1', cpu: '1500m', memory: '256Mi', cpuUse: drop, memUse: flatMem });
    const spec = (name: string, priority: number): Record<string, unknown> => ({
      targetRef: { kind: 'StatefulSet', name },
      mode: 'InPlace',
      priority,
      forecast: { window: 5, horizon: 5 },
      containers: [{ name: '*', min: { cpu: '100m' } }],
    });
    await h.addPolicy('hungry', spec('hungry', 1000));
    await h.addPolicy('low', spec('low', 0));
    await h.addPolicy('high', spec('high', 500));
    await h.settle();
    // A disruption budget of two pods this round: the score decides who gives first.
    h.autoscaler = h.newAutoscaler({ maxPodChanges: 2 });

    const round = await h.round();
    expect(round.plan?.fits).toBe(false);
    const cpuReleases = round.plan!.releases.filter((r) => r.resource === 'cpu');
    // Equal usage, the lower priority scores higher and gives back first; the deficit is covered there,
    // hungry gets its increase, and high's surplus waits for the next round's budget.
    expect(cpuReleases[0]?.app).toBe('default/low');
    expect(cpuReleases.every((r) => r.app === 'default/low')).toBe(true);
    expect(round.plan!.apps.find((a) => a.name === 'default/high')!.actions.some((a) => a.kind === 'held')).toBe(true);
    const scores = Object.fromEntries(round.plan!.apps.map((a) => [a.name, a.score]));
    expect(scores['default/low']).toBeGreaterThan(scores['default/high']!);
    expect(amountOf(h.request('low', 'cpu'))).toBeLessThan(1.5);
    expect(h.request('high', 'cpu')).toBe('1500m');
    expect(amountOf(h.request('hungry', 'cpu'))).toBeGreaterThan(1);
    expect(h.pod('hungry').status.conditions.some((c: { type: string }) => c.type === 'PodResizePending')).toBe(false);
  });

  it('gives back an old generation with room: marks it, then compacts it in steps after a proactive reclaim on the node, across a restart', async () => {
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '8Gi' }], 30);
    // Idle for half an hour at 200Mi of 1Gi: old surplus, given back though the cluster has room.
    await h.addApp('idle', { node: 'n1', cpu: '500m', memory: '1024Mi', memoryLimit: '1024Mi', cpuUse: () => 0.2, memUse: () => 200 * Mi });
    await h.addPolicy('idle', { targetRef: { kind: 'StatefulSet', name: 'idle' }, mode: 'InPlace', forecast: { window: 5, horizon: 5 } });
    await h.settle();

    const r1 = await h.round();
    const idle1 = r1.plan!.apps.find((a) => a.name === 'default/idle')!;
    expect(idle1.actions.map((a) => a.kind)).toContain('mark');
    expect(amountOf(h.request('idle', 'memory'))).toBe(1024 * Mi);
    const marks = h.policy('idle').status.marks;
    expect(marks.memory).toBeGreaterThan(0);

    // A new replica: the marks come back from the policy's status.
    h.autoscaler = h.newAutoscaler();
    const steps = [amountOf(h.request('idle', 'memory'))!];
    for (let i = 0; i < 2; i++) {
      await h.round();
      steps.push(amountOf(h.request('idle', 'memory'))!);
    }
    const probe = h.probes.get('n1')!;
    expect(probe.reclaims.length).toBeGreaterThanOrEqual(2);
    expect(probe.reclaims[0]!.podUid).toBe(h.pod('idle').metadata.uid);
    // Compacted in steps of at most a quarter of the allocation, never below use with the margin.
    expect(steps[1]).toBeLessThan(steps[0]!);
    expect(steps[2]).toBeLessThan(steps[1]!);
    for (let i = 1; i < steps.length; i++) expect(steps[i - 1]! - steps[i]!).toBeLessThanOrEqual(0.25 * steps[i - 1]! + Mi);
    expect(steps[2]).toBeGreaterThanOrEqual((200 * Mi) / 0.9);
    // The kubelet applied the request; the limit, a safety cap, is not lowered with it (it frees nothing the scheduler counts).
    expect(h.pod('idle').status.containerStatuses[0].resources.requests.memory).toBe(h.request('idle', 'memory'));
    expect(amountOf(h.pod('idle').spec.containers[0].resources.limits.memory)).toBe(1024 * Mi);
    expect(h.events('ProactiveReclaim').length).toBeGreaterThan(0);
    expect(h.policy('idle').status.lastActions.some((a: { reason: string }) => a.reason === 'OldSurplusCompacted')).toBe(true);
  });

  it("a policy's controlledValues wins over the autoscaler's default: RequestsAndLimits lowers the limit with the request, RequestsOnly leaves it", async () => {
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '8Gi' }], 30);
    const idle = { node: 'n1', cpu: '1', memory: '1024Mi', memoryLimit: '1024Mi', cpuUse: () => 0.2, memUse: () => 200 * Mi };
    await h.addApp('prop', idle);
    await h.addApp('only', idle);
    const spec = (name: string, controlledValues: string): Record<string, unknown> => ({ targetRef: { kind: 'StatefulSet', name }, mode: 'InPlace', resources: ['memory'], forecast: { window: 5, horizon: 5 }, controlledValues });
    await h.addPolicy('prop', spec('prop', 'RequestsAndLimits'));
    await h.addPolicy('only', spec('only', 'RequestsOnly'));
    await h.settle();
    for (let i = 0; i < 3; i++) await h.round();
    const lim = (name: string): number => amountOf(h!.pod(name).spec.containers[0].resources.limits.memory)!;
    expect(amountOf(h.request('prop', 'memory'))).toBeLessThan(1024 * Mi);
    expect(lim('prop')).toBeLessThan(1024 * Mi);
    expect(amountOf(h.request('only', 'memory'))).toBeLessThan(1024 * Mi);
    expect(lim('only')).toBe(1024 * Mi);
  });

  it('reports a resize the node cannot take, once, and does not loop on it', async () => {
    // The cluster has room (n2), the pod's node has not.
    h = await Harness.start([{ name: 'n1', cpu: '1', memory: '4Gi' }, { name: 'n2', cpu: '8', memory: '4Gi' }]);
    await h.addApp('big', { node: 'n1', cpu: '950m', memory: '256Mi', cpuUse: (m) => 0.6 + 0.02 * m, memUse: flatMem });
    await h.addPolicy('big', { targetRef: { kind: 'StatefulSet', name: 'big' }, mode: 'InPlace', resources: ['cpu'], forecast: { window: 5, horizon: 5 } });
    await h.settle();
    for (let i = 0; i < 3; i++) await h.round();
    expect(h.resizeRequests()).toBe(0);
    const status = h.policy('big').status;
    expect(status.conditions.find((c: { type: string }) => c.type === 'NodeFull').status).toBe('True');
    expect(status.lastActions.filter((a: { reason: string }) => a.reason === 'NodeFull')).toHaveLength(1);
    expect(h.events('NodeFull').filter((e) => (e.involvedObject as { kind: string }).kind === 'Pod')).toHaveLength(1);

    // A resize the kubelet finds Infeasible (made behind the autoscaler's back) is reverted once and reported.
    await h.cluster.resizePod({ namespace: 'default', name: 'big-0' }, { app: { requests: { cpu: '2', memory: '256Mi' } } });
    await h.settle();
    expect(h.pod('big').status.conditions.find((c: { type: string }) => c.type === 'PodResizePending').reason).toBe('Infeasible');
    const sent = h.resizeRequests();
    await h.round();
    await h.round();
    expect(h.resizeRequests()).toBe(sent + 1);
    expect(h.request('big', 'cpu')).toBe('950m');
    expect(h.policy('big').status.lastActions.some((a: { reason: string }) => a.reason === 'ResizeInfeasible')).toBe(true);
  });
});
