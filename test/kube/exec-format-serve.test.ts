/**
 * `polyarch serve --scheduler --migrator --exec-format` as a process against the fake API
 * server: a lying image is caught, recorded in the ConfigMap, counted in
 * polyarch_exec_format_errors_total, and its pod runs on amd64; a pod whose image runs
 * nowhere is held (a Blocked Migration) and never moved; a second process started
 * afterwards (a restart) reads the record and does not place that digest on arm64.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer, type KubeObject } from '../../fake-apiserver/index.ts';
import { BAD_PLATFORMS_CONFIGMAP, parseBadPlatforms } from '../../src/core/exec-format/bad-platforms.ts';
import { SimRegistry } from '../../src/sim/registry.ts';
import { barePod, catalogFile, deployment, eventually, installPullCheck, node, pods, spawnServe } from './helpers.ts';

const LIAR = 'registry.example/ml/liar:1';
const NOWHERE = 'registry.example/ml/nowhere:1';
const CATALOG = [
  { reference: LIAR, platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } },
  // Its only entry lies: it runs on no node of this cluster.
  { reference: NOWHERE, platforms: ['linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } },
];

const procs: ChildProcess[] = [];
let server: FakeApiServer | undefined;
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  await server?.close();
  server = undefined;
});

type Status = { containerStatuses?: { state?: { running?: unknown }; lastState?: { terminated?: { exitCode?: number } } }[] };
const statusOf = (p: KubeObject): Status => (p.status ?? {}) as Status;

function serve(kubeconfig: string, images: string): { out: string[]; url: () => Promise<string> } {
  const s = spawnServe(['--scheduler', '--migrator', '--exec-format', '--no-leader-elect', '--kubeconfig', kubeconfig, '--images', images,
    '--listen', '127.0.0.1:0', '--exec-format-interval', '200ms', '--migrator-interval', '200ms', '--log-level', 'info']);
  procs.push(s.proc);
  return {
    out: s.out,
    url: () => eventually(() => {
      const failed = s.failure();
      if (failed) throw failed;
      for (const l of s.out) {
        try {
          const j = JSON.parse(l) as { msg?: string; url?: string };
          if (j.msg === 'serving' && j.url) return j.url;
        } catch {
          // not a JSON line
        }
      }
      return undefined;
    }, 60_000, 'the serving line'),
  };
}

describe('polyarch serve --exec-format', () => {
  it('catches, records, counts and repairs a lying image; a restarted process keeps the record', async () => {
    const s = await FakeApiServer.start({ controllers: { replicaSet: true, deployment: true, kubelet: true } });
    server = s;
    const registry = new SimRegistry(CATALOG as never);
    installPullCheck(s, registry);
    s.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'polyarch-system' }, spec: {}, status: { phase: 'Active' } });
    // amd-1 cordoned at first: the scheduler, trusting the index, puts the pod on arm-1.
    const amd = node('amd-1', 'amd64');
    s.seed(node('arm-1', 'arm64'), { ...amd, spec: { unschedulable: true } });
    const dir = await mkdtemp(join(tmpdir(), 'polyarch-exec-format-'));
    const kubeconfig = await s.writeKubeconfig(join(dir, 'kubeconfig'));
    const images = await catalogFile(dir, CATALOG);
    const core = s.client(CoreV1Api);
    const setCordon = (on: boolean): Promise<unknown> => core.patchNode({ name: 'amd-1', body: [{ op: 'replace', path: '/spec/unschedulable', value: on }] });

    const first = serve(kubeconfig, images);
    const url = await first.url();
    await s.create(deployment('liar', 1, { app: LIAR }));
    await s.create(barePod('stuck', { app: NOWHERE }));
    // The liar's pod, not `stuck` (whose image also fails on arm-1; which crashes first is a race).
    const failing = await eventually(() => pods(s).find((p) => p.metadata.name?.startsWith('liar-') && p.spec?.['nodeName'] === 'arm-1' && statusOf(p).containerStatuses?.[0]?.lastState?.terminated?.exitCode === 255), 30_000, 'the pod crash-looping on arm-1');
    // Caught and recorded; the pod is evicted; its replacement waits for room.
    const record = await eventually(() => {
      const data = s.get('v1', 'ConfigMap', BAD_PLATFORMS_CONFIGMAP, 'polyarch-system')?.['data'] as Record<string, string> | undefined;
      return parseBadPlatforms(data).entries.find((e) => e.image === LIAR);
    }, 30_000, 'the record in the ConfigMap');
    expect(record).toMatchObject({ platform: 'linux/arm64/v8', image: LIAR, node: 'arm-1', pod: `default/${failing.metadata.name}` });
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.includes('polyarch_exec_format_errors_total{') ? text : undefined;
    }, 10_000, 'the metric');
    expect(metrics).toContain(`polyarch_exec_format_errors_total{image="${LIAR}",platform="linux/arm64/v8"} 1`);
    await setCordon(false);
    const moved = await eventually(() => pods(s).find((p) => p.metadata.uid !== failing.metadata.uid && p.spec?.['nodeName'] && statusOf(p).containerStatuses?.[0]?.state?.running), 30_000, 'the replacement running');
    expect(moved.spec?.['nodeName']).toBe('amd-1');

    // The pod whose image runs nowhere: held (a Blocked Migration with the reason), left where it is.
    const stuckMigrations = (): KubeObject[] => s.list('polyarch.io/v1alpha1', 'Migration', 'polyarch-system').filter((m) => (m['spec'] as { pod?: string }).pod === 'default/stuck');
    const held = await eventually(() => stuckMigrations().find((m) => (m['status'] as { phase?: string } | undefined)?.phase === 'Blocked'), 30_000, 'the Blocked Migration of default/stuck');
    expect((held['spec'] as { heldReason?: string }).heldReason).toMatch(/nowhere:1 does not run on linux\/arm64\/v8 .*share no platform/);
    const stuckUid = s.get('v1', 'Pod', 'stuck', 'default')?.metadata.uid;

    // A restart: the first process goes, a second one starts with nothing in memory.
    procs[0]?.kill('SIGKILL');
    await setCordon(true);
    const second = serve(kubeconfig, images);
    await second.url();
    await eventually(() => second.out.some((l) => l.includes('record read') && l.includes('"added":2')) || undefined, 30_000, 'the second process to read the record');
    await s.create({ ...deployment('again', 1, { app: LIAR }) });
    const refused = await eventually(() => {
      const p = pods(s).find((x) => x.metadata.name?.startsWith('again-'));
      const cond = ((p?.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
      return cond ? { p, cond } : undefined;
    }, 30_000, 'the new pod refused while only arm-1 has room');
    expect(refused.p?.spec?.['nodeName']).toBeUndefined();
    expect(refused.cond.message).toMatch(/registry\.example\/ml\/liar:1/);
    await setCordon(false);
    const bound = await eventually(() => pods(s).find((x) => x.metadata.name?.startsWith('again-') && x.spec?.['nodeName'])?.spec?.['nodeName'], 30_000, 'the new pod bound');
    expect(bound).toBe('amd-1');
    // Across both processes the held pod was never moved: one Migration, still Blocked, the same pod.
    expect(stuckMigrations().map((m) => (m['status'] as { phase?: string } | undefined)?.phase)).toEqual(['Blocked']);
    expect(s.get('v1', 'Pod', 'stuck', 'default')?.metadata.uid).toBe(stuckUid);
    expect(s.get('v1', 'Pod', 'stuck', 'default')?.metadata.deletionTimestamp).toBeUndefined();
  }, 180_000);
});
