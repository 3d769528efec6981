/**
 * The kubelet's container lifecycle and the statuses it reports, as a pure function of
 * what the runtime did (runtime.ts) and the time since the container was first started.
 * Both kubelet models (src/sim/kubelet.ts and fake-apiserver/controllers.ts) report
 * through it, so a pod looks the same on the simulator and over the fake API server.
 *
 * Reasons and messages are the kubelet's (kubernetes/kubernetes pkg/kubelet):
 * - restarts back off 10 s, doubling, at most 5 min (kuberuntime_manager.go doBackOff,
 *   MaxContainerBackOff); while backing off the container waits with reason
 *   `CrashLoopBackOff` (container/sync_result.go ErrCrashLoopBackOff) and the message
 *   `back-off 20s restarting failed container=app pod=web-1_shop(uid)`; the event is
 *   `BackOff`, "Back-off restarting failed container app in pod web-1_shop(uid)".
 * - a failed pull waits with `ErrImagePull` (images/types.go), then `ImagePullBackOff`
 *   with `Back-off pulling image "REF"`; the event is `Failed`,
 *   `Failed to pull image "REF": ...` (images/image_manager.go).
 * - an exec format error: runc execs the entrypoint only after `runc start` opened the exec
 *   fifo (libcontainer/standard_init_linux.go), so containerd's start succeeds; runc init
 *   prints `exec /app: exec format error` to the container's stderr and exits 255
 *   (libcontainer/init_linux.go). The kubelet reports `lastState.terminated` with exit code
 *   255 and reason `Error` (containerd's reason for a non-zero exit), the log line in the
 *   container's log, and in `terminated.message` only under terminationMessagePolicy
 *   FallbackToLogsOnError (kuberuntime_container.go: the last 80 lines / 2048 bytes).
 *   containerd's `StartError` (exit code 128, `failed to create containerd task: failed
 *   to create shim task: OCI runtime create failed: runc create failed: unable to start
 *   container process: ...: unknown`) is what a *create*-time failure gives (a missing
 *   entrypoint: `exec: "/app": stat /app: no such file or directory`), not an exec format
 *   error: with runc, an exec format error is never a StartError.
 * - an OOM kill: `terminated` reason `OOMKilled`, exit code 137.
 */

import { rfc3339 } from './time.ts';
import type { ContainerState, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus } from '../k8s/types.ts';
import type { RuntimeOutcome } from './runtime.ts';

/** kubelet backOffPeriod and MaxContainerBackOff (pkg/kubelet/kubelet.go). */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
/** kubecontainer.MaxContainerTerminationMessageLogLines / ...LogLength. */
export const TERMINATION_LOG_LINES = 80;
export const TERMINATION_LOG_BYTES = 2048;

/** The wait before restart number `n` (1-based): 10 s, 20 s, 40 s, ... 5 min. */
export function backOffMs(n: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.max(0, n - 1));
}

/**
 * A container that fails on every start, `elapsedMs` after its first start: how many
 * restarts the kubelet has made, when the last attempt began, and the back-off it waits
 * now before the next one.
 */
export function crashLoop(elapsedMs: number): { restartCount: number; lastAttemptMs: number; backOffMs: number } {
  let restartCount = 0;
  let at = 0;
  const t = Math.max(0, elapsedMs);
  // Closed form after the cap: attempts every BACKOFF_MAX_MS.
  for (;;) {
    const wait = backOffMs(restartCount + 1);
    if (wait === BACKOFF_MAX_MS) {
      const more = Math.floor((t - at) / BACKOFF_MAX_MS);
      restartCount += more;
      at += more * BACKOFF_MAX_MS;
      break;
    }
    if (at + wait > t) break;
    at += wait;
    restartCount++;
  }
  return { restartCount, lastAttemptMs: at, backOffMs: backOffMs(restartCount + 1) };
}

/** A Go time.Duration as String() prints whole seconds: `10s`, `1m20s`, `5m0s`. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: PodIdentity): string {
  return `${pod.name}_${pod.namespace}(${pod.uid})`;
}

export interface PodIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface ContainerIdentity {
  readonly name: string;
  readonly image: string;
  readonly terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError' | string | null | undefined;
}

export interface KubeletEvent { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string }

/** A ContainerStatus with the fields the kubelet always fills. */
export type KubeletContainerStatus = ContainerStatus & {
  readonly image: string;
  readonly imageID: string;
  readonly ready: boolean;
  readonly started: boolean;
  readonly restartCount: number;
  readonly state: ContainerState;
  readonly lastState: ContainerState;
};

/** What the kubelet reports for one container at `nowMs`, with its log and the event of its latest transition. */
export interface KubeletReport {
  readonly status: KubeletContainerStatus;
  /** The log of the current container, or of the last terminated one while waiting (what `kubectl logs` shows). */
  readonly log: string;
  /** Runs (Ready may follow). */
  readonly running: boolean;
  /** The kubelet's event for the latest attempt (BackOff, Failed), undefined when it runs. */
  readonly event?: KubeletEvent;
}


/** The runtime's id of attempt `n` of a container (deterministic: the models have no randomness). */
export const containerIdOf = (pod: PodIdentity, container: string, attempt: number): string =>
  `containerd://${container}-${pod.uid}${attempt > 0 ? `-${attempt}` : ''}`;

/** The log line runc init writes when execve fails with ENOEXEC. */
export const execFormatErrorLog = (entrypoint: string): string => `exec ${entrypoint}: exec format error\n`;

/** The last `TERMINATION_LOG_LINES` lines, at most `TERMINATION_LOG_BYTES` bytes, of a log (the kubelet's fallback message). */
export function terminationLogTail(log: string): string {
  const lines = log.split('\n');
  const trailing = lines.at(-1) === '' ? 1 : 0;
  let tail = lines.slice(-(TERMINATION_LOG_LINES + trailing)).join('\n');
  if (tail.length > TERMINATION_LOG_BYTES) tail = tail.slice(-TERMINATION_LOG_BYTES);
  return tail;
}

/**
 * The status of a container the kubelet started first at `firstStartMs`, given what the
 * runtime does with its image, at `nowMs`.
 */
export function reportContainer(pod: PodIdentity, c: ContainerIdentity, outcome: RuntimeOutcome, firstStartMs: number, nowMs: number, imageID = ''): KubeletReport {
  const base = { name: c.name, image: c.image };
  switch (outcome.kind) {
    case 'runs':
      return {
        status: { ...base, imageID, containerID: containerIdOf(pod, c.name, 0), ready: true, started: true, restartCount: 0, state: { running: { startedAt: rfc3339(firstStartMs) } }, lastState: {} },
        log: '',
        running: true,
      };
    case 'exec-format-error': {
      const loop = crashLoop(nowMs - firstStartMs);
      const log = execFormatErrorLog(outcome.entrypoint);
      const at = rfc3339(firstStartMs + loop.lastAttemptMs);
      const containerID = containerIdOf(pod, c.name, loop.restartCount);
      const terminated: ContainerStateTerminated = {
        exitCode: 255, reason: 'Error', startedAt: at, finishedAt: at, containerID,
        ...(c.terminationMessagePolicy === 'FallbackToLogsOnError' ? { message: terminationLogTail(log) } : {}),
      };
      return {
        status: {
          ...base, imageID, containerID, ready: false, started: false, restartCount: loop.restartCount,
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(loop.backOffMs)} restarting failed container=${c.name} pod=${formatPod(pod)}` } },
          lastState: { terminated },
        },
        log,
        running: false,
        event: { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}` },
      };
    }
    case 'no-matching-manifest':
    case 'not-found': {
      const cause = outcome.kind === 'not-found'
        ? `rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": not found`
        : `rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": no match for platform in manifest: not found`;
      const loop = crashLoop(nowMs - firstStartMs);
      const waiting: ContainerStateWaiting = loop.restartCount === 0 && nowMs - firstStartMs < BACKOFF_INITIAL_MS
        ? { reason: 'ErrImagePull', message: cause }
        : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` };
      return {
        status: { ...base, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting }, lastState: {} },
        log: '',
        running: false,
        event: { type: 'Warning', reason: 'Failed', message: `Failed to pull image "${c.image}": ${cause}` },
      };
    }
  }
}

/** The container is OOM-killed at `atMs`: terminated with reason OOMKilled, exit code 137 (SIGKILL), not ready. */
export function oomKill(status: ContainerStatus, atMs: number): ContainerStatus {
  const startedAt = status.state?.running?.startedAt ?? rfc3339(atMs);
  return {
    ...status, ready: false, started: false,
    state: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt, finishedAt: rfc3339(atMs), containerID: status.containerID ?? '' } },
  };
}

/** The kubelet restarts a terminated container at `atMs`: running again, the old state kept as lastState, restartCount + 1. */
export function restartContainer(status: ContainerStatus, pod: PodIdentity, atMs: number): ContainerStatus {
  const restartCount = (status.restartCount ?? 0) + 1;
  const containerID = containerIdOf(pod, status.name, restartCount);
  return {
    ...status, containerID, ready: true, started: true, restartCount,
    state: { running: { startedAt: rfc3339(atMs) } },
    lastState: status.state?.terminated ? { terminated: status.state.terminated } : status.lastState ?? {},
  };
}

/**
 * What `GET pods/NAME/log` sends of a log (PodLogOptions, as the kubelet applies them):
 * the last `tailLines` lines, then at most `limitBytes` bytes from their start. A negative
 * tailLines or a limitBytes below 1 is refused (the API's validation), naming the field.
 */
export function podLogTail(log: string, options: { readonly tailLines?: number | undefined; readonly limitBytes?: number | undefined }): { ok: true; value: string } | { ok: false; field: 'tailLines' | 'limitBytes'; error: string } {
  const { tailLines: tail, limitBytes: limit } = options;
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) return { ok: false, field: 'tailLines', error: `Invalid value: ${tail}: must be greater than or equal to 0` };
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) return { ok: false, field: 'limitBytes', error: `Invalid value: ${limit}: must be greater than 0` };
  let text = log;
  if (tail !== undefined) {
    const lines = text.split('\n');
    const trailing = lines.at(-1) === '' ? 1 : 0;
    text = tail === 0 ? '' : lines.slice(-(tail + trailing)).join('\n');
  }
  if (limit !== undefined) {
    const bytes = new TextEncoder().encode(text);
    if (bytes.length > limit) text = new TextDecoder().decode(bytes.subarray(0, limit));
  }
  return { ok: true, value: text };
}

