/**
 * CPU startup boost end to end on the fake API server: the webhook's patch boosts the
 * pod at creation (capped at the policy's maximum and at the largest node), the kubelet
 * model runs it, and once it is Ready the autoscaler's step gives the CPU back in place
 * (pods/resize: same pod, same uid), removes the record and says so in an event.
 */
import fjp from 'fast-json-patch';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { admitPod } from '../../src/app/admission.ts';
import { takeBackStartupBoosts } from '../../src/app/autoscaler/startup-boost.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { parseScalingPolicy, type ScalingPolicy } from '../../src/core/autoscale/policy.ts';
import type { PodLike } from '../../src/core/admission/pod.ts';
import type { KubeObject } from '../../fake-apiserver/index.ts';
import { eventually, events, node, startHarness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const policy = (name: string, spec: object): ScalingPolicy => {
  const r = parseScalingPolicy({ metadata: { name, namespace: 'default' }, spec });
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const pod = (name: string, app: string, cpu: string, limit?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } },
  spec: { schedulerName: 'polyarch', containers: [{ name: 'app', image: 'registry.example/shop/web:1.4', resources: { requests: { cpu, memory: '64Mi' }, ...(limit ? { limits: { cpu: limit, memory: '64Mi' } } : {}) } }] },
}) as KubeObject;
const cpuOf = (o: KubeObject | undefined): { request: unknown; limit: unknown } => {
  const c = (o?.spec?.['containers'] as { resources: { requests?: { cpu?: string }; limits?: { cpu?: string } } }[])[0];
  return { request: c?.resources.requests?.cpu, limit: c?.resources.limits?.cpu };
};

describe('CPU startup boost', () => {
  it('is applied at creation, never above the maximum or the node room, and removed in place after Ready', async () => {
    h = await startHarness();
    const { server, cluster } = h;
    server.seed(node('amd-1', 'amd64', { cpu: '4' }), node('arm-1', 'arm64', { cpu: '4' }));
    const policies = [
      policy('java', { selector: { matchLabels: { app: 'java' } }, mode: 'Off', containers: [{ name: '*', max: { cpu: '1500m' } }], startupBoost: { cpu: { type: 'Factor', factor: 4 } } }),
      policy('big', { selector: { matchLabels: { app: 'big' } }, mode: 'Off', startupBoost: { cpu: { type: 'Quantity', quantity: '8' } } }),
    ];
    const lookup = new ImageLookupService({ source: h.registry, clock: systemClock });
    await lookup.resolve('registry.example/shop/web:1.4');
    const startupBoost = { policies: () => policies, roomMilli: () => 4000 };
    for (const p of [pod('java', 'java', '500m', '1'), pod('big', 'big', '1')]) {
      const d = admitPod(p as unknown as PodLike, 'default', { resolver: lookup, preferences: [], skipNamespaces: [], startupBoost });
      expect(d.outcome).toBe('mutated');
      await server.create(fjp.applyPatch(structuredClone(p), d.patch as fjp.Operation[]).newDocument);
    }
    // Boosted at creation: java 500m x4 = 2 capped at the policy's 1500m (limit kept in ratio: 3); big 1 + 8 capped at the node's 4.
    expect(cpuOf(server.get('v1', 'Pod', 'java'))).toEqual({ request: '1500m', limit: '3' });
    expect(cpuOf(server.get('v1', 'Pod', 'big'))).toEqual({ request: '4', limit: undefined });
    const uid = server.get('v1', 'Pod', 'java')?.metadata?.uid;

    // The kubelet model starts them; the autoscaler's step takes the boost back once Ready.
    let last: unknown;
    await eventually(async () => {
      const r = await takeBackStartupBoosts({ reader: cluster, writer: cluster, clock: systemClock });
      last = { r, pods: server.list('v1', 'Pod', 'default').map((p) => [p.metadata?.name, p.spec?.['nodeName'], p.status?.['phase']]) };
      return r.filter((x) => x.outcome === 'restored').length > 0 && r;
    }, 15_000, 'a boost taken back').catch((e: unknown) => { throw new Error(`${String(e)}: ${JSON.stringify(last)}`); });
    await eventually(async () => (await takeBackStartupBoosts({ reader: cluster, writer: cluster, clock: systemClock }), !server.list('v1', 'Pod', 'default').some((p) => p.metadata?.annotations?.['polyarch.io/startup-boost'])), 15_000, 'every boost taken back');
    const java = server.get('v1', 'Pod', 'java');
    expect(cpuOf(java)).toEqual({ request: '500m', limit: '1' });
    expect(java?.metadata?.uid).toBe(uid);
    expect(cpuOf(server.get('v1', 'Pod', 'big'))).toEqual({ request: '1', limit: undefined });
    const removed = await eventually(() => events(server).filter((e) => e['reason'] === 'StartupBoostRemoved').length === 2 && true, 10_000, 'two StartupBoostRemoved events');
    expect(removed).toBe(true);
  });
});
