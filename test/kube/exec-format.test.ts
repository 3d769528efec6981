/**
 * Exec format errors end to end, over real HTTP to the fake API server whose kubelet model
 * (core/kube-model, shared with the simulator) reports a lying image as a kubelet on
 * containerd does: the scheduler places a pod whose image index says linux/arm64 on an
 * arm64 node, the binary is amd64, the container dies with `exec /app: exec format error`
 * and crash-loops. polyarch's exec format controller catches it from the pod's status and
 * log tail, records the (digest, platform) in the ConfigMap, and the pod runs on amd64
 * through the migrator; a fresh image lookup service (a restarted polyarch) reads the
 * record back and the scheduler never places that digest on arm64 again. A pod whose
 * image runs nowhere ends blocked, and stays so.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/index.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { ExecFormatController, loadBadPlatforms } from '../../src/app/exec-format.ts';
import { ImageLookupService } from '../../src/app/image-lookup.ts';
import { Scheduler } from '../../src/app/scheduler.ts';
import { BAD_PLATFORMS_CONFIGMAP, parseBadPlatforms } from '../../src/core/exec-format/bad-platforms.ts';
import { createFramework } from '../../src/core/placement/framework.ts';
import { createRng } from '../../src/core/rng.ts';
import { noTelemetry, type Telemetry } from '../../src/ports/telemetry.ts';
import { SimRegistry } from '../../src/sim/registry.ts';
import type { KubeObject } from '../../fake-apiserver/index.ts';
import { barePod, deployment, eventually, events, installPullCheck, node, pods, startHarness, type Harness } from './helpers.ts';

const LIAR = 'registry.example/ml/liar:1';
const NOWHERE = 'registry.example/ml/nowhere:1';
const LATER = 'registry.example/ml/later:1';
const CATALOG = [
  // The index's linux/arm64 entry holds an amd64 binary.
  { reference: LIAR, platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } },
  // Its only entry lies: it runs on no node of this cluster.
  { reference: NOWHERE, platforms: ['linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } },
  // Its arm64 entry lies; it also exists for riscv64, which no node has at first.
  { reference: LATER, platforms: ['linux/arm64', 'linux/riscv64'], binaries: { 'linux/arm64': 'linux/amd64' } },
];

/** What `run` printed on stdout (the CLI writes with process.stdout.write), and its exit code. */
async function captureStdout(f: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  try {
    return { code: await f(), out };
  } finally {
    process.stdout.write = write;
  }
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type Status = { containerStatuses?: { state?: { running?: unknown }; lastState?: { terminated?: { exitCode?: number } } }[] };
const statusOf = (p: KubeObject): Status => (p.status ?? {}) as Status;
const crashLooping = (p: KubeObject): boolean => statusOf(p).containerStatuses?.[0]?.lastState?.terminated?.exitCode === 255;
const running = (p: KubeObject): boolean => statusOf(p).containerStatuses?.[0]?.state?.running !== undefined;

async function setUp(): Promise<{ h: Harness; registry: SimRegistry; resolver: ImageLookupService; controller: ExecFormatController; counted: [string, string][] }> {
  const registry = new SimRegistry(CATALOG as never);
  const resolver = new ImageLookupService({ source: registry, clock: systemClock });
  const harness = await startHarness({}, { resolver }, {});
  h = harness;
  // The kubelet model's runtime is this catalog (the lying entries included).
  installPullCheck(harness.server, registry);
  const counted: [string, string][] = [];
  const telemetry: Telemetry = { ...noTelemetry, execFormatError: (image, platform) => counted.push([image, platform]) };
  if (!harness.migrator) throw new Error('the harness runs no migrator');
  const controller = new ExecFormatController({ cluster: harness.cluster, store: harness.cluster, resolver, migrator: harness.migrator, clock: systemClock, log: harness.log.child({ role: 'exec-format' }), telemetry });
  return { h: harness, registry, resolver, controller, counted };
}

describe('exec format errors caught at run time and repaired', () => {
  it('records the bad (digest, platform), moves the pod to amd64, and a restarted polyarch never places that digest on arm64 again', async () => {
    const { h, registry, resolver, controller, counted } = await setUp();
    const armDigest = (() => {
      const a = registry.answer(LIAR);
      const arm = a.ok ? a.value.platforms.find((p) => p.platform.architecture === 'arm64') : undefined;
      if (!arm) throw new Error('no arm64 entry');
      return arm.digest;
    })();
    // Only an arm64 node at first: the scheduler, trusting the index, puts the pod there.
    h.server.seed(node('arm-1', 'arm64'));
    await h.server.create(deployment('liar', 1, { app: LIAR }));
    const first = await eventually(() => pods(h.server).find((p) => p.spec?.['nodeName'] === 'arm-1' && crashLooping(p)), 30_000, 'the pod crash-looping on arm-1');
    h.server.seed(node('amd-1', 'amd64'));
    await eventually(async () => (await h.cluster.getNode('amd-1')) !== undefined, 10_000, 'amd-1 in the node cache');

    const caught = await eventually(async () => (await controller.runOnce()).cases[0], 15_000, 'the exec format error caught');
    expect(caught).toMatchObject({ pod: `default/${first.metadata.name}`, node: 'arm-1', platform: 'linux/arm64/v8', image: LIAR, digest: armDigest, evidence: 'log', outcome: 'moving' });
    expect(counted).toEqual([[LIAR, 'linux/arm64/v8']]);
    // Recorded where a restarted polyarch finds it: the ConfigMap.
    const cm = h.server.get('v1', 'ConfigMap', BAD_PLATFORMS_CONFIGMAP, 'polyarch-system');
    expect(parseBadPlatforms(cm?.['data'] as Record<string, string>).entries).toEqual([expect.objectContaining({ digest: armDigest, platform: 'linux/arm64/v8', node: 'arm-1' })]);
    expect(events(h.server).some((e) => e['reason'] === 'ExecFormatError' && (e['involvedObject'] as { name?: string }).name === first.metadata.name)).toBe(true);

    // The migrator evicts it; its ReplicaSet's new pod goes to amd64 and runs.
    const moved = await eventually(() => pods(h.server).find((p) => p.metadata.uid !== first.metadata.uid && p.spec?.['nodeName'] && running(p)), 30_000, 'the replacement running');
    expect(moved.spec?.['nodeName']).toBe('amd-1');
    expect(pods(h.server).filter((p) => p.spec?.['nodeName'] === 'arm-1')).toEqual([]);
    // Caught once: the next rounds find nothing more.
    expect((await controller.runOnce()).cases).toEqual([]);
    expect(resolver.cached(LIAR)?.ok && resolver.cached(LIAR)).toMatchObject({ value: { platforms: [expect.objectContaining({ platform: expect.objectContaining({ architecture: 'amd64' }) })] } });

    // A restarted polyarch: a new image lookup service knows nothing until it reads the record.
    const restarted = new ImageLookupService({ source: registry, clock: systemClock });
    const before = await restarted.resolve(LIAR);
    expect(before.ok && before.value.platforms.map((p) => p.digest)).toContain(armDigest);
    expect(await loadBadPlatforms(h.cluster, restarted)).toEqual({ added: 1, removed: 0, errors: [] });
    const fw = createFramework({});
    if (!fw.ok) throw new Error(fw.error);
    const scheduler = new Scheduler({ cluster: h.cluster, resolver: restarted, framework: fw.value, rng: createRng(1), clock: systemClock, log: h.log, schedulerName: 'polyarch-restarted', queue: { initialBackoffMs: 10, maxBackoffMs: 50 } });
    // amd-1 full (cordoned): only arm-1 has room, and the digest does not run there.
    const cordon = await h.cluster.cordonNode('amd-1', true);
    expect(cordon.ok).toBe(true);
    await eventually(async () => (await h.cluster.getNode('amd-1'))?.spec?.unschedulable === true, 10_000, 'amd-1 cordoned in the cache');
    await h.server.create({ ...barePod('again', { app: LIAR }), spec: { ...(barePod('again', { app: LIAR }).spec as object), schedulerName: 'polyarch-restarted' } });
    const refused = await eventually(async () => {
      await scheduler.runOnce();
      return scheduler.decisions.get('default/again');
    }, 15_000, 'a decision on the new pod');
    expect(refused.outcome).not.toBe('scheduled');
    expect(refused.reason).toMatch(/registry\.example\/ml\/liar:1/);
    expect(h.server.get('v1', 'Pod', 'again', 'default')?.spec?.['nodeName']).toBeUndefined();
    // With amd-1 back it binds there, with the amd64 variant.
    await h.cluster.cordonNode('amd-1', false);
    const bound = await eventually(async () => {
      await scheduler.runOnce();
      return h.server.get('v1', 'Pod', 'again', 'default')?.spec?.['nodeName'] as string | undefined;
    }, 15_000, 'the new pod bound');
    expect(bound).toBe('amd-1');
  }, 120_000);

  it('a pod whose image runs nowhere ends Blocked with the reason, and is not moved again', async () => {
    const { h, controller } = await setUp();
    h.server.seed(node('arm-1', 'arm64'), node('amd-1', 'amd64'));
    await h.server.create(barePod('stuck', { app: NOWHERE }));
    const stuck = await eventually(() => pods(h.server).find((p) => p.metadata.name === 'stuck' && p.spec?.['nodeName'] === 'arm-1' && crashLooping(p)), 30_000, 'the pod crash-looping on arm-1');
    const caught = await eventually(async () => (await controller.runOnce()).cases[0], 15_000, 'the exec format error caught');
    expect(caught.outcome).toBe('blocked');
    expect(caught.reason).toMatch(/does not run on linux\/arm64\/v8 .*share no platform: registry\.example\/ml\/nowhere:1 \(no platforms\)/);
    const record = await eventually(async () => (await h.cluster.listMigrations()).find((r) => r.spec.pod === 'default/stuck'), 10_000, 'the Migration');
    expect(record.spec.heldReason).toBe(caught.reason);
    await eventually(async () => (await h.cluster.listMigrations()).find((r) => r.spec.pod === 'default/stuck' && r.status?.phase === 'Blocked'), 10_000, 'the Migration Blocked');
    // Rounds of the migrator and the controller change nothing: no eviction, no second record, no loop.
    if (!h.migrator) throw new Error('no migrator');
    const blockedEvents = (): number => events(h.server).filter((e) => e['reason'] === 'MigrationBlocked' && (e['involvedObject'] as { name?: string }).name === 'stuck').length;
    const told = await eventually(() => blockedEvents() || undefined, 10_000, 'the MigrationBlocked event');
    for (let i = 0; i < 3; i++) {
      await h.migrator.runOnce();
      expect((await controller.runOnce()).cases).toEqual([]);
    }
    const after = h.server.get('v1', 'Pod', 'stuck', 'default');
    expect(after?.metadata.uid).toBe(stuck.metadata.uid);
    expect(after?.metadata.deletionTimestamp).toBeUndefined();
    const records = (await h.cluster.listMigrations()).filter((r) => r.spec.pod === 'default/stuck');
    expect(records.map((r) => r.status?.phase)).toEqual(['Blocked']);
    expect(blockedEvents()).toBe(told);
  }, 120_000);

  it('a held pod is looked at again when what held it changes: a node of another platform joins, or its entry is forgotten with `polyarch exec-format forget`', async () => {
    const { h, controller } = await setUp();
    h.server.seed(node('arm-1', 'arm64'), node('amd-1', 'amd64'));
    await h.server.create(barePod('later', { app: LATER }));
    await h.server.create(barePod('stuck', { app: NOWHERE }));
    await eventually(() => ['later', 'stuck'].every((n) => pods(h.server).some((p) => p.metadata.name === n && p.spec?.['nodeName'] === 'arm-1' && crashLooping(p))) || undefined, 30_000, 'both pods crash-looping on arm-1');
    const held = async (pod: string): Promise<boolean> => (await h.cluster.listMigrations()).some((r) => r.spec.pod === `default/${pod}` && r.spec.heldReason !== undefined);
    await eventually(async () => (await controller.runOnce(), (await held('later')) && (await held('stuck'))) || undefined, 20_000, 'both pods held');
    expect((await controller.runOnce()).resumed).toEqual([]);

    // A riscv64 node joins: `later` can run there now; `stuck` still cannot.
    h.server.seed(node('riscv-1', 'riscv64'));
    await eventually(async () => (await h.cluster.getNode('riscv-1')) !== undefined || undefined, 10_000, 'riscv-1 in the cache');
    const round = await controller.runOnce();
    expect(round.resumed).toEqual([{ pod: 'default/later', reason: expect.stringMatching(/does not run on linux\/arm64\/v8 .*looked at again: moving it to linux\/riscv64$/) as unknown as string }]);
    expect(await held('later')).toBe(false);
    expect(await held('stuck')).toBe(true);
    expect(events(h.server).some((e) => e['reason'] === 'ExecFormatRepairResumed' && (e['involvedObject'] as { name?: string }).name === 'later')).toBe(true);
    const moved = await eventually(() => pods(h.server).find((p) => p.metadata.name === 'later' && p.spec?.['nodeName'] === 'riscv-1' && running(p)), 30_000, 'later re-created and running on riscv-1');
    // The tag's index has one riscv64 entry, the one the kubelet pulls: the reference is left as written (no image patch, issue 16).
    expect(moved.spec?.['containers']).toEqual([expect.objectContaining({ image: LATER })]);

    // The CLI lists the record and forgets the entry of `stuck`'s image: held no more (its image claims arm64 again).
    const cli = ['--kubeconfig', await h.server.writeKubeconfig(join(await mkdtemp(join(tmpdir(), 'polyarch-ef-')), 'kubeconfig')), '--namespace', 'polyarch-system'];
    const listed = await captureStdout(() => run(['exec-format', 'list', ...cli, '--output', 'json']));
    expect(listed.code).toBe(0);
    const entries = (JSON.parse(listed.out) as { entries: { key: string; image: string; platform: string }[] }).entries;
    expect(entries.map((e) => [e.image, e.platform]).sort()).toEqual([[LATER, 'linux/arm64/v8'], [NOWHERE, 'linux/arm64/v8']]);
    expect(await run(['exec-format', 'forget', ...cli])).toBe(2);
    expect(await run(['exec-format', 'forget', 'sha256-nope.linux-arm64', ...cli])).toBe(1);
    const forgot = await captureStdout(() => run(['exec-format', 'forget', '--image', NOWHERE, ...cli, '--output', 'json']));
    expect(forgot).toEqual({ code: 0, out: `${JSON.stringify({ forgotten: [entries.find((e) => e.image === NOWHERE)?.key], dryRun: false }, null, 2)}\n` });
    expect(parseBadPlatforms(h.server.get('v1', 'ConfigMap', BAD_PLATFORMS_CONFIGMAP, 'polyarch-system')?.['data'] as Record<string, string>).entries.map((e) => e.image)).toEqual([LATER]);
    const again = await controller.runOnce();
    expect(again.resumed.map((r) => r.pod)).toEqual(['default/stuck']);
    expect(await held('stuck')).toBe(false);
  }, 120_000);
});
