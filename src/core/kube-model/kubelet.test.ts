import { describe, expect, it } from 'vitest';
import { backOffMs, crashLoop, goDuration, oomKill, reportContainer, restartContainer, terminationLogTail } from './kubelet.ts';
import { runImage, runtimeImage } from './runtime.ts';
import { parsePlatform, type Platform } from '../platform/platform.ts';

const P = (s: string): Platform => {
  const r = parsePlatform(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const pod = { name: 'web-1', namespace: 'shop', uid: 'u-1' };
const T0 = Date.UTC(2026, 0, 5, 6);

describe('the kubelet back-off', () => {
  it('waits 10 s, doubling, at most 5 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backOffMs)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('counts the restarts made by a time: attempts at 0, 10, 30, 70, 150, 310 s, then every 5 min', () => {
    expect(crashLoop(0)).toEqual({ restartCount: 0, lastAttemptMs: 0, backOffMs: 10_000 });
    expect(crashLoop(9_999).restartCount).toBe(0);
    expect(crashLoop(10_000)).toEqual({ restartCount: 1, lastAttemptMs: 10_000, backOffMs: 20_000 });
    expect(crashLoop(150_000)).toEqual({ restartCount: 4, lastAttemptMs: 150_000, backOffMs: 160_000 });
    expect(crashLoop(310_000)).toEqual({ restartCount: 5, lastAttemptMs: 310_000, backOffMs: 300_000 });
    expect(crashLoop(310_000 + 3 * 300_000 + 1)).toMatchObject({ restartCount: 8, lastAttemptMs: 1_210_000 });
    expect(crashLoop(24 * 3600_000).restartCount).toBe(5 + Math.floor((24 * 3600_000 - 310_000) / 300_000));
  });

  it('prints durations as Go does', () => {
    expect([10_000, 80_000, 300_000, 3_600_000].map(goDuration)).toEqual(['10s', '1m20s', '5m0s', '1h0m0s']);
  });
});

describe('what a runtime does with an image', () => {
  const liar = runtimeImage({ platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } });
  if (!liar.ok) throw new Error(liar.error);

  it('an index entry that lies is pulled for its platform and fails in exec', () => {
    expect(runImage(liar.value, P('linux/arm64'))).toEqual({ kind: 'exec-format-error', platform: P('linux/arm64'), binary: P('linux/amd64'), entrypoint: '/app' });
    expect(runImage(liar.value, P('linux/amd64'))).toEqual({ kind: 'runs', platform: P('linux/amd64') });
    expect(runImage(liar.value, P('linux/riscv64'))).toEqual({ kind: 'no-matching-manifest' });
    expect(runImage(undefined, P('linux/amd64'))).toEqual({ kind: 'not-found' });
  });

  it('a single-platform image is pulled anywhere and runs only where it can', () => {
    const single = runtimeImage({ platforms: ['linux/amd64'] });
    if (!single.ok) throw new Error(single.error);
    expect(runImage(single.value, P('linux/arm64'))).toMatchObject({ kind: 'exec-format-error', platform: P('linux/amd64') });
  });

  it('names the field of a bad declaration', () => {
    expect(runtimeImage({ platforms: ['linux/amd64', 'nonsense'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^platforms\[1\]: /) });
    expect(runtimeImage({ platforms: ['linux/arm64'], binaries: { 'linux/arm64': 'bad' } })).toMatchObject({ ok: false, error: expect.stringMatching(/^binaries\.linux\/arm64: /) });
    expect(runtimeImage({ platforms: ['linux/amd64'], binaries: { 'linux/arm64': 'linux/amd64' } })).toEqual({ ok: false, error: "binaries.linux/arm64: not one of the image's platforms" });
  });
});

describe('the statuses the kubelet reports', () => {
  const exec = { kind: 'exec-format-error', platform: P('linux/arm64'), binary: P('linux/amd64'), entrypoint: '/app' } as const;
  const c = { name: 'app', image: 'r/liar:1' };

  it('exec format error: exit 255 reason Error in lastState, CrashLoopBackOff waiting, runc init\'s line in the log', () => {
    const r = reportContainer(pod, c, exec, T0, T0 + 35_000);
    expect(r.running).toBe(false);
    expect(r.log).toBe('exec /app: exec format error\n');
    expect(r.status).toMatchObject({
      ready: false, started: false, restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=web-1_shop(u-1)' } },
      lastState: { terminated: { exitCode: 255, reason: 'Error', startedAt: '2026-01-05T06:00:30Z', finishedAt: '2026-01-05T06:00:30Z', containerID: 'containerd://app-u-1-2' } },
    });
    expect(r.status.lastState.terminated?.message).toBeUndefined();
    expect(r.event).toEqual({ type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web-1_shop(u-1)' });
    const fallback = reportContainer(pod, { ...c, terminationMessagePolicy: 'FallbackToLogsOnError' }, exec, T0, T0);
    expect(fallback.status.lastState.terminated?.message).toBe('exec /app: exec format error\n');
  });

  it('a failed pull: ErrImagePull, then ImagePullBackOff', () => {
    const first = reportContainer(pod, c, { kind: 'no-matching-manifest' }, T0, T0);
    expect(first.status.state.waiting).toEqual({ reason: 'ErrImagePull', message: 'rpc error: code = NotFound desc = failed to pull and unpack image "r/liar:1": no match for platform in manifest: not found' });
    expect(first.event?.message).toMatch(/^Failed to pull image "r\/liar:1": rpc error/);
    expect(reportContainer(pod, c, { kind: 'no-matching-manifest' }, T0, T0 + 60_000).status.state.waiting).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "r/liar:1"' });
  });

  it('runs; an OOM kill is exit 137 OOMKilled, and the restart keeps it as lastState', () => {
    const run = reportContainer(pod, c, { kind: 'runs' }, T0, T0 + 5_000);
    expect(run.status).toMatchObject({ ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-05T06:00:00Z' } } });
    const killed = oomKill(run.status, T0 + 60_000);
    expect(killed.state?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-01-05T06:01:00Z' });
    const again = restartContainer(killed, pod, T0 + 70_000);
    expect(again).toMatchObject({ ready: true, restartCount: 1, state: { running: { startedAt: '2026-01-05T06:01:10Z' } }, lastState: { terminated: { reason: 'OOMKilled' } } });
  });

  it('the fallback message keeps the last 80 lines and 2048 bytes', () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const tail = terminationLogTail(log);
    expect(tail.startsWith('line 20\n')).toBe(true);
    expect(terminationLogTail('x'.repeat(5000)).length).toBe(2048);
  });
});

describe('the kubelet\'s resize admission', () => {
  it('Infeasible beyond allocatable, Deferred beyond what the others leave, else fits', async () => {
    const { resizeVerdict } = await import('./resize.ts');
    const alloc = { cpu: 4000, mem: 8 * 2 ** 30 };
    expect(resizeVerdict({ cpu: 8000, mem: 1 }, { cpu: 0, mem: 0 }, alloc)).toEqual({ kind: 'Infeasible', resource: 'cpu', message: "Node didn't have enough capacity: cpu, requested: 8000, capacity: 4000" });
    expect(resizeVerdict({ cpu: 2000, mem: 2 ** 30 }, { cpu: 3000, mem: 0 }, alloc)).toEqual({ kind: 'Deferred', resource: 'cpu', message: "Node didn't have enough resource: cpu, requested: 2000, used: 3000, capacity: 4000" });
    expect(resizeVerdict({ cpu: 1000, mem: 9 * 2 ** 30 }, { cpu: 3000, mem: 0 }, alloc)).toMatchObject({ kind: 'Infeasible', resource: 'memory' });
    expect(resizeVerdict({ cpu: 1000, mem: 2 ** 30 }, { cpu: 3000, mem: 0 }, alloc)).toEqual({ kind: 'fits' });
  });
});
