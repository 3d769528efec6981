import { afterEach, describe, expect, it } from 'vitest';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import type { ImageSource, ResolveResult } from '../../src/ports/image-resolver.ts';
import { barePod, deployment, eventually, events, node, pods, resolver, startHarness, type Harness } from './helpers.ts';
import type { KubeObject } from '../../fake-apiserver/index.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const WEB = 'registry.example/shop/web:1.4';
const AGENT = 'registry.example/tools/agent:2.0';
const nodeOf = (p: KubeObject): string => (p.spec?.['nodeName'] as string | undefined) ?? '';
const milli = (q: string): number => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);

/** Successful POSTs to pods/NAME/binding, per pod. */
function bindings(h: Harness): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of h.server.requests) {
    const m = /\/pods\/([^/?]+)\/binding/.exec(r.path);
    if (r.method === 'POST' && m?.[1] && r.code === 201) out.set(m[1], (out.get(m[1]) ?? 0) + 1);
  }
  return out;
}

describe('the scheduler when the API misbehaves', () => {
  it('loses nothing and binds nothing twice when watches drop and the API server restarts mid-run', { timeout: 120_000 }, async () => {
    h = await startHarness();
    const { server } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'), node('loong-1', 'loong64'), node('riscv-1', 'riscv64'));
    await server.create(deployment('web', 8, { web: WEB }, '300m'));
    await eventually(() => (pods(server).some((p) => nodeOf(p)) ? true : undefined), 10_000, 'first binding');
    server.dropWatches();
    await server.create(deployment('more', 4, { more: WEB }, '300m'));
    // Restart with history compacted: the informers' resourceVersions are now 410 Gone.
    server.compact();
    await server.restart({ keepState: true });
    server.dropWatches();
    await server.create(deployment('late', 4, { late: WEB }, '900m'));

    const all = await eventually(() => {
      const ps = pods(server);
      return ps.length === 16 && ps.every((p) => nodeOf(p)) ? ps : undefined;
    }, 60_000, 'sixteen pods bound');
    const b = bindings(h);
    for (const p of all) expect(b.get(p.metadata?.name ?? ''), p.metadata?.name).toBe(1);
    // 12 x 300m + 4 x 900m on four 4-CPU nodes: nothing over-committed by a stale cache.
    const perNode = new Map<string, number>();
    for (const p of all) {
      const cpu = (p.spec?.['containers'] as { resources: { requests: { cpu: string } } }[]).reduce((s, c) => s + milli(c.resources.requests.cpu), 0);
      perNode.set(nodeOf(p), (perNode.get(nodeOf(p)) ?? 0) + cpu);
    }
    for (const [n, cpu] of perNode) expect(cpu, n).toBeLessThanOrEqual(4000);
    expect(perNode.size).toBeGreaterThan(1);
    // The informers listed again after the restart (their watch positions were 410 Gone).
    const podLists = server.requests.filter((r) => r.method === 'GET' && /^\/api\/v1\/pods(\?|$)/.test(r.path) && !r.path.includes('watch=true'));
    expect(podLists.length).toBeGreaterThanOrEqual(2);

  });

  it('survives another scheduler binding a pod first (409): forgets, undoes its patch, carries on', async () => {
    h = await startHarness();
    const { server, scheduler, log } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    // Another scheduler binds "contested" to arm-1 right after polyarch patches it, before polyarch's bind.
    server.admission.register({
      name: 'rival-scheduler',
      mutate: (req) => {
        if (req.operation === 'UPDATE' && req.subResource === '' && req.name === 'contested' && !req.object?.spec?.['nodeName']) {
          setTimeout(() => void server.api.bind('default', 'contested', { target: { kind: 'Node', name: 'arm-1' } }).catch(() => undefined), 0);
        }
      },
    });
    // A per-architecture tag: polyarch writes its variant before binding (an index's pod would only be bound).
    await server.create(barePod('contested', { app: AGENT }));
    await eventually(() => (scheduler.stats.bindConflicts === 1 ? true : undefined), 10_000, 'a bind conflict');
    // Bound where the rival put it; our variant (chosen for another node) undone: the pod keeps the reference its owner wrote.
    const contested = await eventually(() => {
      const p = server.get('v1', 'Pod', 'contested');
      return p?.spec?.['nodeName'] === 'arm-1' && (p.spec?.['containers'] as { image: string }[])[0]?.image === AGENT ? p : undefined;
    }, 10_000, 'contested bound to arm-1 with its original image');
    expect(contested.metadata?.annotations?.['polyarch.io/platform']).toBeUndefined();
    expect(log.lines.some((l) => l.message === 'bind refused: pod already bound')).toBe(true);
    // The loop goes on.
    await server.create(barePod('after', { app: WEB }));
    await eventually(() => (nodeOf(server.get('v1', 'Pod', 'after') ?? { metadata: {} }) ? true : undefined), 10_000, 'the next pod bound');
  });

  it('names bad input (no containers, invalid image, malformed node, API 500s) and keeps going', async () => {
    h = await startHarness();
    const { server, log } = h;
    server.seed(node('amd-1', 'amd64'), { ...node('broken', 'arm64'), status: { allocatable: { cpu: 'lots', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } });
    // Stored as they are (an older API server, or another writer): validation bypassed.
    server.seed(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'empty', namespace: 'default' }, spec: { schedulerName: 'polyarch', containers: [] }, status: { phase: 'Pending' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'badref', namespace: 'default' }, spec: { schedulerName: 'polyarch', containers: [{ name: 'c', image: 'Registry.Example/UPPER:tag!' }] }, status: { phase: 'Pending' } },
    );
    // Three 500s on bindings, then the API recovers: the writes are retried.
    server.faults.failNext(3, { path: /\/binding$/, code: 500 });
    await server.create(barePod('good', { app: WEB }));
    await eventually(() => (nodeOf(server.get('v1', 'Pod', 'good') ?? { metadata: {} }) === 'amd-1' ? true : undefined), 15_000, 'good pod bound to amd-1');
    const failed = (name: string): string | undefined =>
      events(server).find((e) => e['reason'] === 'FailedScheduling' && (e['involvedObject'] as { name: string }).name === name)?.['message'] as string | undefined;
    const empty = await eventually(() => failed('empty'), 5_000, 'event for the pod with no containers');
    expect(empty).toContain('spec.containers');
    const badref = await eventually(() => failed('badref'), 5_000, 'event for the invalid image');
    expect(badref).toContain('spec.containers[0].image');
    expect(badref).toContain('Registry.Example/UPPER:tag!');
    expect(log.lines.some((l) => l.message.includes('malformed node') && JSON.stringify(l.fields).includes('broken'))).toBe(true);
    expect(server.requests.filter((r) => /\/binding$/.test(r.path) && r.code === 500)).toHaveLength(3);
  });

  it('delays only the pods whose registry is unreachable, with an event naming it', async () => {
    const catalog = resolver();
    let downCalls = 0;
    // The unreachable registry answers only once the other pods are bound: they cannot have waited for it.
    let answer = (): void => undefined;
    const answered = new Promise<void>((r) => (answer = r));
    const flaky: ImageSource = {
      identity: () => '',
      peek: (ref) => (ref.registry === 'down.example' ? undefined : catalog.peek(ref)),
      lookup: async (ref): Promise<ResolveResult> => {
        if (ref.registry === 'down.example') {
          downCalls++;
          await answered;
          return { ok: false, error: { kind: 'unreachable', message: `down.example: connect ECONNREFUSED 127.0.0.1:9` } };
        }
        return catalog.lookup(ref);
      },
    };
    h = await startHarness({}, { resolver: new ImageLookupService({ source: flaky, clock: systemClock }) });
    const { server } = h;
    server.seed(node('amd-1', 'amd64'), node('arm-1', 'arm64'));
    await server.create(barePod('stuck', { app: 'down.example/team/app:1' }));
    await server.create(deployment('web', 6, { web: WEB }));
    await eventually(() => (pods(server).filter((p) => p.metadata?.labels?.['app'] === 'web' && nodeOf(p)).length === 6 ? true : undefined), 10_000, 'web pods bound');
    expect(downCalls).toBeGreaterThanOrEqual(1); // stuck's lookup was under way meanwhile
    answer();
    const ev = await eventually(() => events(server).find((e) => e['reason'] === 'FailedScheduling' && (e['involvedObject'] as { name: string }).name === 'stuck'), 10_000, 'registry event');
    expect(ev['message']).toContain('down.example');
    expect(nodeOf(server.get('v1', 'Pod', 'stuck') ?? { metadata: {} })).toBe('');
    // It keeps being retried with backoff, not dropped.
    await eventually(() => (downCalls >= 2 ? true : undefined), 10_000, 'a retry of the lookup');
  });
});
