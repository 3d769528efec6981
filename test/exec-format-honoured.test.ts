// One record, three readers: after an exec format error is recorded in the one image lookup
// service, the scheduler's placement, the extender's filter and the webhook's mutation all
// leave the recorded (digest, platform) out, with no check of their own.
import { describe, expect, it } from 'vitest';
import { admitPod } from '../src/app/admission.ts';
import { Extender } from '../src/app/extender.ts';
import { ImageLookupService } from '../src/app/image-lookup.ts';
import type { BadPlatform } from '../src/core/exec-format/bad-platforms.ts';
import type { Node, Pod } from '../src/core/k8s/types.ts';
import { createFramework } from '../src/core/placement/framework.ts';
import type { ImageInfo } from '../src/core/placement/pod-info.ts';
import { createRng } from '../src/core/rng.ts';
import { placePod } from '../src/core/placement/schedule.ts';
import { ClusterSnapshot } from '../src/core/placement/snapshot.ts';
import { SimRegistry } from '../src/sim/registry.ts';
import { systemClock } from '../src/adapters/system-clock.ts';

const LIAR = 'registry.example/ml/liar:1';
const registry = new SimRegistry([{ reference: LIAR, platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } }] as never);
const nodes: Node[] = ['arm-1:arm64', 'amd-1:amd64'].map((s) => {
  const [name, arch] = s.split(':') as [string, string];
  return { metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux' } }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } };
});
const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { schedulerName: 'polyarch', containers: [{ name: 'app', image: LIAR }] } };

function recorded(): BadPlatform {
  const a = registry.answer(LIAR);
  const arm = a.ok ? a.value.platforms.find((p) => p.platform.architecture === 'arm64') : undefined;
  if (!arm) throw new Error('no arm64 entry');
  return { digest: arm.digest, platform: 'linux/arm64/v8', image: LIAR, pod: 'default/old', node: 'arm-1', message: 'exec /app: exec format error', at: '2026-01-05T06:00:00Z' };
}

async function answers(resolver: ImageLookupService): Promise<{ scheduler: string[]; extender: string[]; webhook: string[] }> {
  const fw = createFramework({});
  if (!fw.ok) throw new Error(fw.error);
  const info = await resolver.resolve(LIAR);
  const lookup = (ref: string): ImageInfo | undefined => (ref === LIAR && info.ok ? info : undefined);
  // The scheduler: every node it would accept (the one it picks, then without it).
  const scheduler: string[] = [];
  let left = nodes;
  for (;;) {
    const d = placePod(fw.value, ClusterSnapshot.fromNodes(left), pod, lookup, createRng(1));
    if (d.outcome !== 'scheduled' || !d.node) break;
    scheduler.push(d.node);
    left = left.filter((n) => n.metadata.name !== d.node);
  }
  const ext = new Extender({ resolver, cluster: { getPod: async () => undefined, getNode: async () => undefined, patchPod: async () => ({ ok: true, value: undefined }), bindPod: async () => ({ ok: true, value: undefined }), recordEvent: async () => undefined }, clock: systemClock, deadlineMs: 1_000, preferences: [] });
  const filtered = await ext.filter({ pod, nodes });
  const extender = (filtered.nodes ?? []).map((n) => n.metadata?.name ?? '');
  const admitted = admitPod(pod, 'default', { resolver, preferences: [], skipNamespaces: [] });
  const affinity = JSON.stringify(admitted.patch);
  const webhook = ['amd64', 'arm64'].filter((a) => affinity.includes(`"${a}"`));
  return { scheduler: scheduler.sort(), extender: extender.sort(), webhook };
}

describe('the negative record, honoured through the one image lookup service', () => {
  it('scheduler, extender and webhook offer arm64 before the record and none of them after it', async () => {
    const resolver = new ImageLookupService({ source: registry, clock: systemClock });
    expect(await answers(resolver)).toEqual({ scheduler: ['amd-1', 'arm-1'], extender: ['amd-1', 'arm-1'], webhook: ['amd64', 'arm64'] });
    resolver.noteBadPlatforms([recorded()]);
    expect(await answers(resolver)).toEqual({ scheduler: ['amd-1'], extender: ['amd-1'], webhook: ['amd64'] });
  });
});
