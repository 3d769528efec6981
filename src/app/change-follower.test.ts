// The change feed followed by the migrator and the exec format controller: a round in
// which nothing changed reads no pod (the work of a round follows what changed, not the
// size of the cluster), and what changed is still acted on.
import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../core/k8s/types.ts';
import type { ChangeFeed, ObjectRef, PodFilter } from '../ports/cluster.ts';
import { SimCluster } from '../sim/cluster.ts';
import { SimClock } from '../sim/sim-clock.ts';
import { MemoryBadPlatformStore } from '../sim/bad-platforms.ts';
import { SimRegistry } from '../sim/registry.ts';
import { ChangeFollower } from './change-follower.ts';
import { Migrator, requestDrain } from './migrator.ts';
import { ExecFormatController } from './exec-format.ts';
import { ImageLookupService } from './image-lookup.ts';

const T0 = Date.parse('2026-01-05T00:00:00Z');

const node = (name: string, arch: string): Node => ({
  metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux' } },
  status: { allocatable: { cpu: '8', memory: '16Gi', pods: '20' } },
});

const pod = (name: string): Pod => ({
  metadata: { name, namespace: 'default', ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] },
  spec: { containers: [{ name: 'c', image: 'r.test/app:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
});

/** The embedded cluster, counting the pods it hands out. */
class CountingCluster extends SimCluster {
  listed = 0;
  got = 0;
  override async listPods(filter?: PodFilter): Promise<readonly Pod[]> {
    const r = await super.listPods(filter);
    this.listed += r.length;
    return r;
  }
  override async getPod(ref: ObjectRef): Promise<Pod | undefined> {
    this.got++;
    return super.getPod(ref);
  }
  reset(): void {
    this.listed = 0;
    this.got = 0;
  }
}

async function cluster(): Promise<{ clock: SimClock; c: CountingCluster }> {
  const clock = new SimClock(T0);
  const c = new CountingCluster(clock, T0);
  c.addNode(node('a', 'amd64'));
  c.addNode(node('b', 'amd64'));
  for (let i = 0; i < 20; i++) {
    const r = await c.createPod(pod(`web-${i}`));
    if (!r.ok) throw new Error(r.error.message);
    expect((await c.bindPod({ namespace: 'default', name: `web-${i}` }, i % 2 === 0 ? 'a' : 'b')).ok).toBe(true);
  }
  return { clock, c };
}

describe('ChangeFollower', () => {
  it('relists first and after the history expired; in between, each changed object once', async () => {
    let feed: ChangeFeed = { version: 7, events: [], expired: false };
    const f = new ChangeFollower({ version: async () => 5, changes: async () => feed });
    expect(await f.next()).toEqual({ relist: true });
    feed = {
      version: 9, expired: false,
      events: [
        { type: 'MODIFIED', kind: 'Pod', namespace: 'ns', name: 'p', version: 6 },
        { type: 'MODIFIED', kind: 'Pod', namespace: 'ns', name: 'p', version: 7 },
        { type: 'MODIFIED', kind: 'Node', name: 'n', version: 8 },
        { type: 'ADDED', kind: 'Deployment', namespace: 'ns', name: 'd', version: 9 },
      ],
    };
    const r = await f.next();
    if (r.relist) throw new Error('expected changes');
    expect([...r.pods.keys()]).toEqual(['ns/p']);
    expect([...r.nodes]).toEqual(['n']);
    feed = { version: 20, events: [], expired: true };
    expect(await f.next()).toEqual({ relist: true });
  });
});

describe('rounds in which nothing changed', () => {
  it('the migrator reads no pod; a drain is still carried out, off that node only', async () => {
    const { clock, c } = await cluster();
    const migrator = new Migrator({ cluster: c, clock });
    await migrator.runOnce();
    expect(c.listed).toBe(20); // the first round lists every pod once
    c.reset();
    clock.advanceTo(T0 + 60_000);
    const quiet = await migrator.runOnce();
    expect(quiet.started).toBe(0);
    expect(c.listed + c.got).toBe(0);

    expect((await requestDrain(c, c, 'b')).ok).toBe(true);
    c.reset();
    const round = await migrator.runOnce();
    expect(round.draining).toEqual(['b']);
    expect(round.moves.filter((m) => m.outcome === 'moved').map((m) => m.record.spec.pod).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `default/web-${2 * i + 1}`).sort(),
    );
  });

  it('the exec format controller reads no pod until one shows an error', async () => {
    const { clock, c } = await cluster();
    const resolver = new ImageLookupService({ source: new SimRegistry([{ reference: 'r.test/app:1', platforms: ['linux/amd64'] }]), clock });
    const migrator = new Migrator({ cluster: c, clock });
    const ctl = new ExecFormatController({ cluster: c, store: new MemoryBadPlatformStore(), resolver, migrator, clock });
    await ctl.runOnce();
    c.reset();
    for (let i = 0; i < 20; i++) c.setPodPhase(`default/web-${i}`, 'Running', true);
    // Twenty pods changed (Running): each read once, none shows an error, so the pods are not listed.
    expect((await ctl.runOnce()).cases).toEqual([]);
    expect(c.listed).toBe(0);
    expect(c.got).toBe(20);
    c.reset();
    expect((await ctl.runOnce()).cases).toEqual([]);
    expect(c.listed + c.got).toBe(0);

    // One pod crash-loops with exec format error: that round looks at it (and lists the pods, in their order).
    c.setPodPhase('default/web-3', 'Running', false, 'ContainersNotReady', [{
      name: 'c', image: 'r.test/app:1', imageID: 'r.test/app@sha256:aa', ready: false, restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } },
      lastState: { terminated: { exitCode: 128, reason: 'StartError', message: 'exec: "/app": exec format error' } },
    }]);
    c.reset();
    const r = await ctl.runOnce();
    expect(r.cases.map((x) => x.pod)).toEqual(['default/web-3']);
    expect(c.listed).toBe(20);
  });
});
