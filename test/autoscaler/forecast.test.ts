/** Ahead of demand, and Recommend: through the fake API server and the probe's HTTP windows. */
import { afterEach, describe, expect, it } from 'vitest';
import { amountOf } from '../../src/core/units/amounts.ts';
import { Harness, Mi } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

// CPU rising 15m per minute from 100m: at minute 20 it uses 400m of a 500m request, and runs short at minute 27.
const rising = (m: number): number => 0.1 + 0.015 * m;
const flatMem = (): number => 100 * Mi;

describe('autoscaler end to end', () => {
  it('gives a workload whose use rises more before it runs short (forecast, not reaction)', async () => {
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '16Gi' }]);
    await h.addApp('web', { node: 'n1', cpu: '500m', memory: '256Mi', cpuUse: rising, memUse: flatMem });
    await h.addPolicy('web', { targetRef: { kind: 'StatefulSet', name: 'web' }, mode: 'InPlace', forecast: { window: 5, horizon: 5 }, headroom: 0.1 });
    await h.settle();

    let grownAt: number | undefined;
    for (let i = 0; i < 8; i++) {
      await h.round();
      const req = amountOf(h.request('web', 'cpu'))!;
      const used = rising(h.minute() - 1);
      // Never short: every minute the request covers what was used.
      expect(req).toBeGreaterThanOrEqual(used);
      if (req > 0.5 && grownAt === undefined) grownAt = h.minute();
    }
    // Grown while the pod still used clearly less than its request (it would run short at minute 27).
    expect(grownAt).toBeDefined();
    expect(rising(grownAt! - 1)).toBeLessThan(0.45);
    const status = h.policy('web').status;
    expect(status.forecast.cpu).toMatch(/m$|^\d/);
    expect(status.lastActions.some((a: { reason: string }) => a.reason === 'Resized')).toBe(true);
    expect(status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    expect(h.events('Resized').length).toBeGreaterThan(0);
    // The kubelet applied it: the container's status carries the new amount.
    expect(h.pod('web').status.containerStatuses[0].resources.requests.cpu).toBe(h.request('web', 'cpu'));
    // The forecasts made in the first rounds were scored when their minute arrived: a linear rise is forecast closely.
    const err = (await h.metrics.forecastErrors.get()).values.filter((v) => v.labels.resource === 'cpu');
    const count = err.find((v) => v.metricName?.endsWith('_count'))!.value;
    const sum = err.find((v) => v.metricName?.endsWith('_sum'))!.value;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(sum / count).toBeLessThan(0.05);
    const actions = await h.metrics.actions.get();
    expect(actions.values.find((v) => v.labels.kind === 'resize' && v.labels.result === 'ok')?.value).toBeGreaterThan(0);
  });

  it('Recommend writes only the status', async () => {
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '16Gi' }]);
    await h.addApp('web', { node: 'n1', cpu: '500m', memory: '256Mi', cpuUse: rising, memUse: flatMem });
    await h.addPolicy('web', { targetRef: { kind: 'StatefulSet', name: 'web' }, mode: 'Recommend', forecast: { window: 5, horizon: 5 } });
    await h.settle();
    const before = h.pod('web').metadata.resourceVersion;
    await h.round();
    await h.round();
    expect(h.resizeRequests()).toBe(0);
    expect(h.server.requests.filter((r) => r.subresource === 'eviction').length).toBe(0);
    expect(h.pod('web').metadata.resourceVersion).toBe(before);
    expect(h.request('web', 'cpu')).toBe('500m');
    const rec = h.policy('web').status.recommendation;
    expect(rec[0].container).toBe('app');
    expect(amountOf(rec[0].requests.cpu)).toBeGreaterThan(0.5);
  });

  it('the status says what is true now: "starting" while it is, gone once forecasts come; limits stay within the max', async () => {
    // 6 minutes of history: a window of 5 needs 9.
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '16Gi' }], 6);
    await h.addApp('hot', { node: 'n1', cpu: '500m', memory: '256Mi', cpuUse: () => 1.3, memUse: flatMem, cpuLimit: '1' });
    await h.addPolicy('hot', { targetRef: { kind: 'StatefulSet', name: 'hot' }, mode: 'InPlace', forecast: { window: 5, horizon: 5 }, containers: [{ name: '*', max: { cpu: '2' } }] });
    await h.settle();
    await h.round();
    expect(h.policy('hot').status.forecast.note).toMatch(/^starting: 7 of 9 minutes$/);
    for (let i = 0; i < 4; i++) await h.round();
    const f = h.policy('hot').status.forecast;
    expect(f.note).toBeUndefined();
    expect(amountOf(f.cpu)).toBeCloseTo(1.3, 2);
    expect(f.headroom.source).toMatch(/floor|errors/);
    // 1.3 cores used against 500m: raised to its demand in one round (not 575m, 662m, ...), and the limit (2x) capped at the policy's max.
    expect(amountOf(h.request('hot', 'cpu'))).toBeGreaterThanOrEqual(1.3);
    expect(amountOf(h.pod('hot').spec.containers[0].resources.limits.cpu)).toBeLessThanOrEqual(2);
  });

  it("a policy's minChange holds a request until the target leaves the band (hysteresis); without it the request follows", async () => {
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '16Gi' }], 20);
    // Both use 100m of a 500m request.
    const steady = (): number => 0.1;
    await h.addApp('held', { node: 'n1', cpu: '500m', memory: '256Mi', cpuUse: steady, memUse: flatMem });
    await h.addApp('free', { node: 'n1', cpu: '500m', memory: '256Mi', cpuUse: steady, memUse: flatMem });
    await h.addPolicy('held', { targetRef: { kind: 'StatefulSet', name: 'held' }, mode: 'InPlace', resources: ['cpu'], forecast: { window: 5, horizon: 5 }, minChange: { cpu: 0.3 } });
    await h.addPolicy('free', { targetRef: { kind: 'StatefulSet', name: 'free' }, mode: 'InPlace', resources: ['cpu'], forecast: { window: 5, horizon: 5 } });
    await h.settle();
    for (let i = 0; i < 3; i++) await h.round();
    // The same plan for both (give-back in steps: 500m -> 375m -> 282m): the held one wants 375m (its
    // recommendation), 25 % below its request, within its band of 30 %: not made.
    expect(h.policy('held').status.recommendation[0].requests.cpu).toBe('375m');
    expect(h.request('held', 'cpu')).toBe('500m');
    expect(h.request('free', 'cpu')).toBe('282m');
    expect(h.resizeRequests()).toBe(2);
  });
});
