/**
 * An exec format error, seen from what the Kubernetes API shows (no kernel agent): the
 * binary of an image is for another CPU architecture than its node's, whatever the
 * registry's platform entry said.
 *
 * Two signs, as a kubelet on containerd reports them:
 * - the runtime could not start the entrypoint: the container's `state` or `lastState` is
 *   `terminated` (or `waiting`) with reason `StartError` (containerd) or
 *   `RunContainerError` (dockershim, CRI-O) and a message containing `exec format error`,
 *   e.g. `failed to create containerd task: failed to create shim task: OCI runtime
 *   create failed: runc create failed: unable to start container process: exec:
 *   "/app": exec format error: unknown`;
 * - the container exits at once with a non-zero code (reason `Error`) and the tail of its
 *   log (`pods/log`, bounded by tailLines and limitBytes) ends with `exec format error`.
 *   That is what runc gives for an entrypoint built for another architecture: it execs
 *   the entrypoint after the start succeeded, prints `exec /app: exec format error` and
 *   exits 255 (core/kube-model/kubelet.ts); and a shell script's `/entrypoint.sh: line 3:
 *   /app: cannot execute binary file: Exec format error`. Only the log tells, so the
 *   status alone yields a `needsLog` and the caller fetches that tail; under
 *   terminationMessagePolicy FallbackToLogsOnError the tail is in `terminated.message`.
 *
 * Pure: a status in, findings (or an error naming the field) out.
 */
import { z } from 'zod';

export const EXEC_FORMAT_TEXT = 'exec format error';
/** Reasons a kubelet gives a container its runtime could not start. */
export const START_FAILURE_REASONS: ReadonlySet<string> = new Set(['StartError', 'RunContainerError']);
/** A container that ran at most this long before a non-zero exit "exits at once". */
export const QUICK_EXIT_MS = 10_000;
/** The most of a log tail read: what polyarch asks `pods/log` for, and what it looks at. */
export const LOG_TAIL_LINES = 20;
export const LOG_TAIL_BYTES = 4096;

export interface ExecFormatFinding {
  readonly container: string;
  /** The image the container runs (spec image as the kubelet reports it). */
  readonly image: string;
  /** status.containerStatuses[].imageID: what the runtime pulled (may be empty). */
  readonly imageID: string;
  /** Where it was seen. */
  readonly evidence: 'state' | 'lastState' | 'log';
  /** The kubelet's reason (`StartError`, `RunContainerError`) or `LogTail`. */
  readonly reason: string;
  /** The runtime's message, or the last line of the log. */
  readonly message: string;
  readonly restartCount: number;
}

/** A container that exited at once: its log tail must be read to tell. */
export interface LogCheck {
  readonly container: string;
  readonly image: string;
  readonly imageID: string;
  /** The exit is in lastState: the log of the previous instance (`previous=true`). */
  readonly previous: boolean;
  readonly exitCode: number;
  readonly restartCount: number;
}

export interface Detection {
  readonly findings: readonly ExecFormatFinding[];
  readonly needsLog: readonly LogCheck[];
}

const stateSchema = z.looseObject({
  waiting: z.looseObject({ reason: z.string().optional(), message: z.string().optional() }).nullish(),
  running: z.looseObject({}).nullish(),
  terminated: z.looseObject({
    exitCode: z.number().int(),
    reason: z.string().optional(),
    message: z.string().optional(),
    startedAt: z.string().nullish(),
    finishedAt: z.string().nullish(),
  }).nullish(),
});

const containerSchema = z.looseObject({
  name: z.string().min(1),
  image: z.string(),
  imageID: z.string().optional(),
  restartCount: z.number().int().min(0).optional(),
  state: stateSchema.nullish(),
  lastState: stateSchema.nullish(),
});

const statusSchema = z.looseObject({
  initContainerStatuses: z.array(containerSchema).nullish(),
  containerStatuses: z.array(containerSchema).nullish(),
});

type ContainerStatus = z.infer<typeof containerSchema>;
type State = z.infer<typeof stateSchema>;

const says = (text: string | undefined): boolean => (text ?? '').toLowerCase().includes(EXEC_FORMAT_TEXT);

/** Milliseconds between two RFC 3339 times, or undefined when either is missing or unreadable. */
function ranMs(started: string | null | undefined, finished: string | null | undefined): number | undefined {
  const a = started ? Date.parse(started) : Number.NaN;
  const b = finished ? Date.parse(finished) : Number.NaN;
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : undefined;
}

function fromState(c: ContainerStatus, state: State | null | undefined, evidence: 'state' | 'lastState'): ExecFormatFinding | LogCheck | undefined {
  if (!state) return undefined;
  const base = { container: c.name, image: c.image, imageID: c.imageID ?? '', restartCount: c.restartCount ?? 0 };
  for (const s of [state.terminated, state.waiting]) {
    if (s && START_FAILURE_REASONS.has(s.reason ?? '') && says(s.message)) return { ...base, evidence, reason: s.reason ?? '', message: s.message ?? '' };
  }
  const t = state.terminated;
  // An error exit (reason Error, or none given); an OOM kill or a runtime refusal is another story.
  if (t && t.exitCode !== 0 && (t.reason === undefined || t.reason === 'Error')) {
    const ran = ranMs(t.startedAt, t.finishedAt);
    if (ran !== undefined && ran >= 0 && ran <= QUICK_EXIT_MS) {
      // terminationMessagePolicy FallbackToLogsOnError: the log tail is in the message already.
      const said = t.message ? logShowsExecFormat(t.message) : { ok: false as const };
      if (said.ok) return { ...base, evidence, reason: t.reason ?? 'Error', message: said.line };
      return { ...base, previous: evidence === 'lastState', exitCode: t.exitCode };
    }
  }
  return undefined;
}

/**
 * The exec format errors a pod's status shows, and the containers whose log tail must be
 * read to tell. A status that is not the API's shape is an error naming the field.
 */
export function detectExecFormat(status: unknown): { ok: true; value: Detection } | { ok: false; error: string } {
  if (status === undefined || status === null) return { ok: true, value: { findings: [], needsLog: [] } };
  const r = statusSchema.safeParse(status);
  if (!r.success) {
    const i = r.error.issues[0];
    const path = ['status', ...(i?.path ?? []).map(String)].join('.');
    return { ok: false, error: `${path}: ${i?.message ?? 'invalid'}` };
  }
  const findings: ExecFormatFinding[] = [];
  const needsLog: LogCheck[] = [];
  for (const c of [...(r.data.initContainerStatuses ?? []), ...(r.data.containerStatuses ?? [])]) {
    // The current state first: a container failing now; then the last one (CrashLoopBackOff now, the failure before).
    const now = fromState(c, c.state, 'state');
    const last = now && 'evidence' in now ? undefined : fromState(c, c.lastState, 'lastState');
    const hit = [now, last].find((x): x is ExecFormatFinding => x !== undefined && 'evidence' in x);
    if (hit) findings.push(hit);
    else {
      const check = [now, last].find((x): x is LogCheck => x !== undefined && 'exitCode' in x);
      if (check) needsLog.push(check);
    }
  }
  return { ok: true, value: { findings, needsLog } };
}

/**
 * Whether a log tail ends with an exec format error: its last non-empty line says so.
 * Only the last LOG_TAIL_BYTES are looked at, whatever the caller passes.
 */
export function logShowsExecFormat(tail: string): { ok: true; line: string } | { ok: false } {
  const text = tail.length > LOG_TAIL_BYTES ? tail.slice(-LOG_TAIL_BYTES) : tail;
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    return says(line) ? { ok: true, line } : { ok: false };
  }
  return { ok: false };
}

/** The finding a log tail gives for a container that exited at once, when it ends in exec format error. */
export function findingFromLog(check: LogCheck, tail: string): ExecFormatFinding | undefined {
  const r = logShowsExecFormat(tail);
  if (!r.ok) return undefined;
  return { container: check.container, image: check.image, imageID: check.imageID, evidence: 'log', reason: 'LogTail', message: r.line, restartCount: check.restartCount };
}
