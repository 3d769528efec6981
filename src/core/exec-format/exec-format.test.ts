import { describe, expect, it } from 'vitest';
import type { ImagePlatforms } from '../image/types.ts';
import type { Node, Pod } from '../k8s/types.ts';
import { SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import { parsePlatform, type Platform } from '../platform/platform.ts';
import { BadPlatformIndex, badPlatformData, badPlatformKey, badPlatformOf, parseBadPlatforms, withoutBadPlatforms, type BadPlatform } from './bad-platforms.ts';
import { detectExecFormat, findingFromLog, LOG_TAIL_BYTES, logShowsExecFormat } from './detect.ts';
import { decideRepair } from './repair.ts';

const P = (s: string): Platform => {
  const p = parsePlatform(s);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};
const D_ARM = `sha256:${'a'.repeat(64)}`;
const D_AMD = `sha256:${'b'.repeat(64)}`;
const D_INDEX = `sha256:${'c'.repeat(64)}`;

// What a kubelet on containerd 1.7 / runc 1.1 writes for an entrypoint built for another architecture.
const CONTAINERD_MESSAGE = 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app": exec format error: unknown';
const crashLooping = {
  phase: 'Running',
  containerStatuses: [{
    name: 'app', image: `registry.example/shop/web@${D_ARM}`, imageID: `registry.example/shop/web@${D_ARM}`, ready: false, started: false, restartCount: 3,
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=web-1_default(uid)' } },
    lastState: { terminated: { exitCode: 128, reason: 'StartError', message: CONTAINERD_MESSAGE, startedAt: '1970-01-01T00:00:00Z', finishedAt: '2026-01-05T00:10:00Z', containerID: 'containerd://abc' } },
  }],
};

describe('detectExecFormat: what the API shows', () => {
  it('finds the StartError of containerd in lastState while the container is in CrashLoopBackOff', () => {
    const r = detectExecFormat(crashLooping);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.findings).toEqual([expect.objectContaining({ container: 'app', evidence: 'lastState', reason: 'StartError', message: CONTAINERD_MESSAGE, restartCount: 3 })]);
    expect(r.value.needsLog).toEqual([]);
  });

  it.each([
    ['terminated StartError in state', { state: { terminated: { exitCode: 128, reason: 'StartError', message: CONTAINERD_MESSAGE } } }, 'state'],
    ['waiting RunContainerError in state (dockershim, CRI-O)', { state: { waiting: { reason: 'RunContainerError', message: 'exec /app: Exec Format Error' } } }, 'state'],
    ['waiting RunContainerError in lastState', { lastState: { waiting: { reason: 'RunContainerError', message: 'exec format error' } } }, 'lastState'],
  ])('finds %s', (_name, states, evidence) => {
    const r = detectExecFormat({ containerStatuses: [{ name: 'c', image: 'x', ...states }] });
    expect(r.ok && r.value.findings.map((f) => f.evidence)).toEqual([evidence]);
  });

  it.each([
    ['a StartError for another cause', { lastState: { terminated: { exitCode: 128, reason: 'StartError', message: 'exec: "/app": stat /app: no such file or directory: unknown' } } }],
    ['an OOM kill', { lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:01Z' } } }],
    ['a running container', { state: { running: { startedAt: '2026-01-05T00:00:00Z' } } }],
    ['a clean exit at once', { state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:00Z' } } }],
    ['a crash after a long run', { lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T01:00:00Z' } } }],
    ['a clean exit at once with no reason given', { state: { terminated: { exitCode: 0, startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:00Z' } } }],
    ['an error exit 10.001 s after the start', { lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:10.001Z' } } }],
  ])('finds nothing, and asks for no log, in %s', (_name, states) => {
    const r = detectExecFormat({ containerStatuses: [{ name: 'c', image: 'x', ...states }] });
    expect(r).toEqual({ ok: true, value: { findings: [], needsLog: [] } });
  });

  it('asks for the log tail of a container that exited at once with an error (previous instance when in lastState)', () => {
    const r = detectExecFormat({
      initContainerStatuses: [{ name: 'init', image: 'i', state: { terminated: { exitCode: 126, reason: 'Error', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:00Z' } } }],
      containerStatuses: [{ name: 'c', image: 'x', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:02Z' } } }],
    });
    expect(r.ok && r.value.needsLog.map((c) => [c.container, c.previous, c.exitCode])).toEqual([['init', false, 126], ['c', true, 1]]);
  });

  it('counts an error exit of exactly QUICK_EXIT_MS as at once', () => {
    const r = detectExecFormat({ containerStatuses: [{ name: 'c', image: 'x', state: { terminated: { exitCode: 1, startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:10Z' } } }] });
    expect(r.ok && r.value.needsLog.map((c) => [c.container, c.previous])).toEqual([['c', false]]);
  });

  it('finds the StartError of the last instance though the current one only asks for its log', () => {
    const r = detectExecFormat({ containerStatuses: [{
      name: 'c', image: 'x',
      state: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-01-05T00:00:00Z', finishedAt: '2026-01-05T00:00:01Z' } },
      lastState: { terminated: { exitCode: 128, reason: 'StartError', message: CONTAINERD_MESSAGE } },
    }] });
    expect(r.ok && r.value).toEqual({ findings: [expect.objectContaining({ container: 'c', evidence: 'lastState', reason: 'StartError' })], needsLog: [] });
  });

  it('reads the termination message of FallbackToLogsOnError as the log tail (runc: exit 255, reason Error)', () => {
    const r = detectExecFormat({ containerStatuses: [{ name: 'c', image: 'x', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 255, reason: 'Error', message: 'exec /app: exec format error\n', startedAt: '2026-01-05T06:00:30Z', finishedAt: '2026-01-05T06:00:30Z' } } }] });
    expect(r.ok && r.value.findings.map((f) => [f.evidence, f.reason, f.message])).toEqual([['lastState', 'Error', 'exec /app: exec format error']]);
  });

  it.each([
    [42, 'status: Invalid input: expected object'],
    [{ containerStatuses: 'x' }, 'status.containerStatuses: '],
    [{ containerStatuses: [{ name: 'c' }] }, 'status.containerStatuses.0.image: '],
    [{ containerStatuses: [{ name: 'c', image: 'x', lastState: { terminated: { exitCode: 'boom' } } }] }, 'status.containerStatuses.0.lastState.terminated.exitCode: '],
    [{ containerStatuses: [{ name: 'c', image: 'x', restartCount: -1 }] }, 'status.containerStatuses.0.restartCount: '],
  ])('refuses a garbage status %j with an error naming the field', (status, prefix) => {
    const r = detectExecFormat(status);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.startsWith(prefix)).toBe(true);
  });

  it('reads no status (a pod not started) as nothing found', () => {
    expect(detectExecFormat(undefined)).toEqual({ ok: true, value: { findings: [], needsLog: [] } });
  });
});

describe('log tails', () => {
  const check = { container: 'c', image: 'x', imageID: '', previous: true, exitCode: 126, restartCount: 1 };
  it('tells an exec format error from the last non-empty line, any case', () => {
    expect(logShowsExecFormat('starting\n/entrypoint.sh: line 3: /app: cannot execute binary file: Exec format error\n\n')).toEqual({ ok: true, line: '/entrypoint.sh: line 3: /app: cannot execute binary file: Exec format error' });
    expect(findingFromLog(check, 'exec /usr/local/bin/app: exec format error')).toEqual(expect.objectContaining({ evidence: 'log', reason: 'LogTail', container: 'c' }));
  });

  it('does not count an exec format error that is not the last line (the container went on)', () => {
    expect(logShowsExecFormat('exec format error\nlistening on :8080\n').ok).toBe(false);
    expect(logShowsExecFormat('').ok).toBe(false);
  });

  it('looks at the last LOG_TAIL_BYTES only, however large the log it is given', () => {
    const huge = `${'x'.repeat(50 * 1024 * 1024)}\nexec /app: exec format error\n`;
    expect(logShowsExecFormat(huge).ok).toBe(true);
    const longLine = `exec format error ${'y'.repeat(LOG_TAIL_BYTES * 2)}`;
    // The one line is longer than the tail: its start (with the words) is not looked at.
    expect(logShowsExecFormat(longLine).ok).toBe(false);
  });
});

const entry = (o: Partial<BadPlatform> = {}): BadPlatform => ({ digest: D_ARM, platform: 'linux/arm64/v8', image: 'registry.example/shop/web:1.4', pod: 'default/web-1', node: 'arm-1', message: CONTAINERD_MESSAGE, at: '2026-01-05T00:10:00.000Z', ...o });
const web: ImagePlatforms = {
  reference: 'registry.example/shop/web:1.4', source: 'index', warnings: [],
  platforms: [
    { platform: P('linux/amd64'), digest: D_AMD, image: `registry.example/shop/web@${D_AMD}` },
    { platform: P('linux/arm64/v8'), digest: D_ARM, image: `registry.example/shop/web@${D_ARM}` },
  ],
};

describe('the negative record', () => {
  it('round-trips through ConfigMap data, one key per digest and os/architecture', () => {
    const [key, value] = badPlatformData(entry());
    expect(key).toBe(`sha256-${'a'.repeat(64)}.linux-arm64`);
    expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
    expect(badPlatformKey(D_ARM, P('linux/arm64/v9'))).toBe(key);
    expect(parseBadPlatforms({ [key]: value })).toEqual({ entries: [entry()], errors: [] });
  });

  it('leaves out entries someone broke, naming the key and field', () => {
    const r = parseBadPlatforms({ a: 'not json', b: JSON.stringify({ ...entry(), digest: 'sha256:xyz' }), c: JSON.stringify({ ...entry(), platform: 'linux/' }), d: JSON.stringify(entry()) });
    expect(r.entries).toHaveLength(1);
    expect(r.errors).toEqual(['data.a: not JSON', 'data.b.digest: expected algorithm:hex', expect.stringMatching(/^data\.c\.platform: platform: malformed/)]);
  });

  it('removes the digest from the platform it failed on, and only there, saying so', () => {
    const index = new BadPlatformIndex([entry()]);
    const out = withoutBadPlatforms(web, index);
    expect(out.platforms.map((p) => p.digest)).toEqual([D_AMD]);
    expect(out.warnings[0]).toMatch(/^linux\/arm64\/v8 \(sha256:aaaaaaaaaaaa\) removed: exec format error on node arm-1/);
    // Another digest on arm64, or the same digest on another architecture, stays.
    expect(withoutBadPlatforms(web, new BadPlatformIndex([entry({ digest: D_INDEX })]))).toBe(web);
    expect(withoutBadPlatforms(web, new BadPlatformIndex([entry({ platform: 'linux/riscv64' })]))).toBe(web);
    expect(index.add(entry({ platform: 'linux/arm64/v9' }))).toBe(false);
  });

  it('condemns the pinned digest, or for a tag the manifest a runtime on that platform pulls, or the imageID', () => {
    const f = { container: 'app', image: `registry.example/shop/web@${D_ARM}`, imageID: '', evidence: 'lastState' as const, reason: 'StartError', message: 'm', restartCount: 1 };
    const where = { pod: 'default/web-1', node: 'arm-1', platform: P('linux/arm64'), image: 'registry.example/shop/web:1.4', at: 't' };
    expect(badPlatformOf(f, { ...where, platforms: web.platforms })).toEqual({ ok: true, value: expect.objectContaining({ digest: D_ARM, platform: 'linux/arm64/v8' }) });
    expect(badPlatformOf({ ...f, image: 'registry.example/shop/web:1.4', imageID: `registry.example/shop/web@${D_INDEX}` }, { ...where, platforms: web.platforms })).toEqual({ ok: true, value: expect.objectContaining({ digest: D_ARM }) });
    expect(badPlatformOf({ ...f, image: 'registry.example/shop/web:1.4', imageID: `docker.io/x@${D_INDEX}` }, where)).toEqual({ ok: true, value: expect.objectContaining({ digest: D_INDEX }) });
    const none = badPlatformOf({ ...f, image: 'registry.example/shop/web:1.4' }, where);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.error).toMatch(/^container app: no digest to record/);
  });
});

describe('decideRepair', () => {
  const node = (name: string, arch: string): Node => ({ metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux' } } });
  const pod: Pod = {
    metadata: { name: 'web-1', namespace: 'default', annotations: { [SOURCE_IMAGES_ANNOTATION]: JSON.stringify({ app: 'registry.example/shop/web:1.4' }) } },
    spec: { nodeName: 'arm-1', containers: [{ name: 'app', image: `registry.example/shop/web@${D_ARM}` }] },
  };
  const lookupOf = (answer: ImagePlatforms) => (ref: string) => (ref === 'registry.example/shop/web:1.4' ? { ok: true as const, value: answer } : undefined);
  const honest = withoutBadPlatforms(web, new BadPlatformIndex([entry()]));

  it('moves the pod when another platform its images have is on some node', () => {
    const r = decideRepair(pod, lookupOf(honest), [node('arm-1', 'arm64'), node('amd-1', 'amd64')], entry());
    expect(r).toEqual({ kind: 'move', platforms: ['linux/amd64'], reason: expect.stringMatching(/does not run on linux\/arm64\/v8 .*: moving it to linux\/amd64$/) });
  });

  it('blocks it when the platforms left are on no node', () => {
    const r = decideRepair(pod, lookupOf(honest), [node('arm-1', 'arm64'), node('rv-1', 'riscv64')], entry());
    expect(r).toEqual({ kind: 'blocked', reason: expect.stringMatching(/its images still run on linux\/amd64, which no node of the cluster has$/) });
  });

  it('blocks it when its image runs nowhere at all', () => {
    const nowhere = withoutBadPlatforms(honest, new BadPlatformIndex([entry({ digest: D_AMD, platform: 'linux/amd64', node: 'amd-1' })]));
    const r = decideRepair(pod, lookupOf(nowhere), [node('arm-1', 'arm64'), node('amd-1', 'amd64')], entry());
    expect(r.kind).toBe('blocked');
    expect(r.reason).toMatch(/share no platform: registry.example\/shop\/web:1.4 \(no platforms\)/);
  });
});
