/** Evictions: a pod whose node cannot take its increase handed to migration; Recreate within a PodDisruptionBudget. */
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, Mi } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const rising = (m: number): number => 0.6 + 0.02 * m;
const flatMem = (): number => 100 * Mi;

describe('autoscaler evictions end to end', () => {
  it('hands a pod whose node is full to migration when the policy allows', async () => {
    h = await Harness.start([{ name: 'n1', cpu: '1', memory: '4Gi' }, { name: 'n2', cpu: '8', memory: '4Gi' }]);
    await h.addApp('big', { node: 'n1', cpu: '950m', memory: '256Mi', cpuUse: rising, memUse: flatMem });
    await h.addPolicy('big', { targetRef: { kind: 'StatefulSet', name: 'big' }, mode: 'InPlace', migrateWhenNodeFull: true, forecast: { window: 5, horizon: 5 } });
    await h.settle();
    await h.round();
    expect(h.server.requests.filter((r) => r.subresource === 'eviction' && r.code < 300)).toHaveLength(1);
    expect(h.policy('big').status.lastActions.some((a: { reason: string }) => a.reason === 'HandedToMigration')).toBe(true);
    expect(h.resizeRequests()).toBe(0);
  });

  it('Recreate evicts only within the PodDisruptionBudget, and says so when refused', async () => {
    h = await Harness.start([{ name: 'n1', cpu: '8', memory: '4Gi' }]);
    await h.addApp('web', { node: 'n1', cpu: '500m', memory: '256Mi', cpuUse: (m) => 0.1 + 0.02 * m, memUse: flatMem });
    await h.server.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } });
    await h.addPolicy('web', { targetRef: { kind: 'StatefulSet', name: 'web' }, mode: 'Recreate', forecast: { window: 5, horizon: 5 } });
    await h.settle();
    await h.round();
    expect(h.resizeRequests()).toBe(0);
    expect(h.server.requests.filter((r) => r.subresource === 'eviction')).toHaveLength(1);
    expect(h.pod('web').metadata.deletionTimestamp).toBeUndefined();
    const status = h.policy('web').status;
    expect(status.lastActions.some((a: { reason: string }) => a.reason === 'EvictionRefused')).toBe(true);
    expect(status.recommendation[0].requests.cpu).not.toBe('500m');
  });
});
