/**
 * The migrator's decisions, pure: when a node is lost, how each pod on it moves (recorded
 * as a Migration before anything is touched), and the phase machine
 * `advance(record, observed)` that says, from what is seen now, the one next action and
 * the status to write. The app (app/migrator.ts) only reads, acts and writes.
 *
 * The rules are kube-controller-manager's where it has one:
 * - a node is lost when the node controller taints it `node.kubernetes.io/unreachable`
 *   (or `not-ready`) NoExecute; each pod moves once its own toleration of that taint has
 *   run out (tolerationSeconds; the default of the DefaultTolerationSeconds admission
 *   when it has none), as the taint manager evicts; the node coming back before then
 *   cancels the move;
 * - a node whose Node object is deleted is gone: its pods move at once (pod GC);
 * - a StatefulSet pod is never duplicated: on a lost node it is deleted only once the
 *   node is confirmed gone (Node deleted, the `node.kubernetes.io/out-of-service` taint of
 *   a non-graceful shutdown, or `polyarch.io/fenced=true`);
 * - DaemonSet pods, mirror pods and finished pods stay;
 * - a drain evicts (PodDisruptionBudgets hold); `kubectl uncordon` or
 *   `polyarch migrate --node N --undo` ends it and cancels the moves not yet made.
 */
import type { Node, NodeSelectorTerm, Pod, Taint } from '../k8s/types.ts';
import { podKey, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from '../k8s/types.ts';
import { toleratesTaint } from '../k8s/taints.ts';
import { parsePlatform } from '../platform/platform.ts';
import { PLATFORM_ANNOTATION } from '../k8s/annotations.ts';
import { DRAIN_TAINT, replacementPod } from './plan.ts';
import { migrationName, type MigrationMethod, type MigrationRecord, type MigrationStatus } from './record.ts';

/** The operator's word that a lost node is off for good (its StatefulSet pods may be replaced). */
export const FENCED_ANNOTATION = 'polyarch.io/fenced';
/** Non-graceful node shutdown (Kubernetes 1.28): the operator marks a node that is off. */
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const LABEL_ARCH = 'kubernetes.io/arch';
const LABEL_OS = 'kubernetes.io/os';

/** What the migrator sees of a node. */
export type NodeView =
  | { readonly kind: 'ready' }
  /** Being drained: the `polyarch.io/draining` taint on a cordoned node. */
  | { readonly kind: 'draining' }
  /** The drain taint is there but the node was uncordoned (`kubectl uncordon`): the drain is over. */
  | { readonly kind: 'uncordoned' }
  /** Tainted unreachable / not-ready NoExecute since `sinceMs`; `fenced` when confirmed off. */
  | { readonly kind: 'lost'; readonly sinceMs: number; readonly fenced: boolean }
  /** No Node object; `confirmed` once it has been missing for the grace (a cache may lag). */
  | { readonly kind: 'gone'; readonly confirmed: boolean };

export interface MissingNode {
  /** When the Node object was first missed. */
  readonly sinceMs: number;
  /** How long it must stay missing to count as deleted. */
  readonly graceMs: number;
}

const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' };

const isLostTaint = (t: Taint): boolean => (t.key === TAINT_NODE_UNREACHABLE || t.key === TAINT_NODE_NOT_READY) && t.effect === 'NoExecute';

const timeOf = (iso: string | null | undefined): number | undefined => {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The node as the migrator judges it; `node` undefined when the Node object is missing.
 * A lost-node taint without `timeAdded` counts from the Ready condition's last
 * transition, else from now (so it never runs out: the safe side).
 */
export function viewNode(node: Node | undefined, nowMs: number, missing: MissingNode): NodeView {
  if (!node) return { kind: 'gone', confirmed: nowMs - missing.sinceMs >= missing.graceMs };
  const taints = node.spec?.taints ?? [];
  const outOfService = taints.find((t) => t.key === OUT_OF_SERVICE_TAINT);
  const lost = taints.find(isLostTaint);
  if (lost || outOfService) {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready') as { lastTransitionTime?: string } | undefined;
    const sinceMs = timeOf((lost ?? outOfService)?.timeAdded) ?? timeOf(ready?.lastTransitionTime) ?? nowMs;
    return { kind: 'lost', sinceMs, fenced: outOfService !== undefined || node.metadata.annotations?.[FENCED_ANNOTATION] === 'true' };
  }
  if (taints.some((t) => t.key === DRAIN_TAINT)) return node.spec?.unschedulable ? { kind: 'draining' } : { kind: 'uncordoned' };
  return { kind: 'ready' };
}

const controllerOf = (pod: Pod): { kind: string; name: string } | undefined => {
  const o = (pod.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  return o ? { kind: o.kind ?? '', name: o.name ?? '' } : undefined;
};

/** Why a pod stays on its node whatever happens to it, or undefined when it moves. */
export function staysReason(pod: Pod): string | undefined {
  if (controllerOf(pod)?.kind === 'DaemonSet') return 'a DaemonSet pod belongs to its node';
  if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return 'a mirror pod belongs to its kubelet';
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return `finished (${phase})`;
  return undefined;
}

/**
 * How long the pod tolerates a lost node, in seconds; null for ever. As the taint
 * manager's minimum toleration time, with `defaultSeconds` standing for the toleration
 * the DefaultTolerationSeconds admission adds to a pod that has none.
 */
export function lostNodeTolerationSeconds(pod: Pod, defaultSeconds: number): number | null {
  const matching = (pod.spec.tolerations ?? []).filter((t) => toleratesTaint(t, UNREACHABLE_NO_EXECUTE));
  if (matching.length === 0) return defaultSeconds;
  const finite = matching.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
  return finite.length === 0 ? null : Math.max(0, Math.min(...finite));
}

/**
 * The pod with a required node affinity for `platform` (a manual move). Any arch/os
 * requirement it carried (in each term, or in its nodeSelector) is replaced, not
 * added to, so a second move never leaves a term that no node can satisfy.
 */
export function pinPlatform(pod: Pod, platform: string): { ok: true; value: Pod } | { ok: false; error: string } {
  const p = parsePlatform(platform);
  if (!p.ok) return p;
  const exprs = [
    { key: LABEL_ARCH, operator: 'In', values: [p.value.architecture] },
    { key: LABEL_OS, operator: 'In', values: [p.value.os] },
  ];
  const existing: readonly NodeSelectorTerm[] = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const keep = (t: NodeSelectorTerm): NodeSelectorTerm => ({ ...t, matchExpressions: (t.matchExpressions ?? []).filter((e) => e.key !== LABEL_ARCH && e.key !== LABEL_OS) });
  const terms = existing.length > 0 ? existing.map((t) => { const k = keep(t); return { ...k, matchExpressions: [...(k.matchExpressions ?? []), ...exprs] }; }) : [{ matchExpressions: exprs }];
  const selector = { ...(pod.spec.nodeSelector ?? {}) };
  delete selector[LABEL_ARCH];
  delete selector[LABEL_OS];
  const { nodeSelector: _old, ...spec } = pod.spec;
  return {
    ok: true,
    value: {
      ...pod,
      spec: {
        ...spec,
        ...(Object.keys(selector).length > 0 ? { nodeSelector: selector } : {}),
        affinity: {
          ...(pod.spec.affinity ?? {}),
          nodeAffinity: { ...(pod.spec.affinity?.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
        },
      },
    },
  };
}

export interface CaptureOptions {
  /** Toleration of a lost node for pods that carry none (DefaultTolerationSeconds: 300 s). */
  readonly defaultTolerationSeconds: number;
  /** Re-create bare pods (polyarch); Kubernetes alone loses them (the simulator's baseline). */
  readonly recreateBarePods: boolean;
}

export type Capture =
  | { readonly kind: 'record'; readonly record: MigrationRecord }
  | { readonly kind: 'stays'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * The Migration of one pod that must leave `fromNode`, recorded before anything is
 * touched: for a bare pod the replacement is built now, so nothing the pod carried is
 * lost if pod GC removes it before the move (a deleted Node).
 */
export function capture(pod: Pod, fromNode: string, why: { readonly reason: 'node-lost' | 'drain' | 'exec-format-error' } | { readonly reason: 'manual'; readonly toPlatform: string }, opts: CaptureOptions): Capture {
  const stays = staysReason(pod);
  if (stays) return { kind: 'stays', reason: stays };
  const owner = controllerOf(pod);
  const manual = why.reason === 'manual';
  // A pod that cannot run where it is (an exec format error) is re-created whatever recreateBarePods says, as a manual move is.
  let method: MigrationMethod = owner ? 'evict' : opts.recreateBarePods || manual || why.reason === 'exec-format-error' ? 'recreate' : 'evict';
  if (owner?.kind === 'StatefulSet') method = 'delete';
  let template: Pod | undefined;
  if (method === 'recreate') {
    const rp = replacementPod(pod, fromNode);
    if (!rp.ok) return { kind: 'invalid', reason: rp.error };
    template = rp.value;
    if (why.reason === 'manual') {
      const pinned = pinPlatform(rp.value, why.toPlatform);
      if (!pinned.ok) return { kind: 'invalid', reason: pinned.error };
      template = pinned.value;
    }
  }
  return {
    kind: 'record',
    record: {
      name: migrationName(pod),
      spec: {
        pod: podKey(pod),
        ...(pod.metadata.uid ? { podUID: pod.metadata.uid } : {}),
        reason: why.reason,
        fromNode,
        ...(why.reason === 'manual' ? { toPlatform: why.toPlatform } : {}),
        method,
        ...(template ? { template } : {}),
        ...(why.reason === 'node-lost' ? { tolerationSeconds: lostNodeTolerationSeconds(pod, opts.defaultTolerationSeconds) } : {}),
      },
      status: { phase: 'Pending', attempts: 0, message: `recorded: moving off ${fromNode} (${why.reason})` },
    },
  };
}

export interface Observed {
  /** The pod with the record's namespace/name now: the one being moved, or its replacement. */
  readonly pod: Pod | undefined;
  /** The node it leaves. */
  readonly node: NodeView;
  readonly nowMs: number;
}

export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  readonly reason: 'Migrated' | 'MigrationBlocked' | 'MigrationFailed' | 'MigrationCancelled';
  readonly message: string;
}

/**
 * The next step of one record. `status` is written when the action succeeds (at once
 * for `none`); a refused or failed action leaves the phase `Evicting` with the refusal
 * (the app's `refusedStatus`). `cancel` deletes the record: nothing was moved.
 */
export type Step =
  | { readonly action: 'none'; readonly status: MigrationStatus; readonly event?: EventSpec }
  | { readonly action: 'evict' | 'delete'; readonly status: MigrationStatus; readonly event?: EventSpec }
  | { readonly action: 'create'; readonly pod: Pod; readonly status: MigrationStatus; readonly event?: EventSpec }
  | { readonly action: 'cancel'; readonly event: EventSpec };

const seconds = (ms: number): number => Math.round(ms / 1000);

function scheduledFalse(pod: Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c && c.status === 'False' && c.reason === 'Unschedulable' ? (c.message ?? 'unschedulable') : undefined;
}

export function advance(record: MigrationRecord, observed: Observed): Step {
  const step = nextStep(record, observed);
  // An action done is one more attempt.
  if (step.action === 'evict' || step.action === 'delete' || step.action === 'create') return { ...step, status: { ...step.status, attempts: (record.status?.attempts ?? 0) + 1 } };
  return step;
}

function nextStep(record: MigrationRecord, observed: Observed): Step {
  const { spec } = record;
  const attempts = record.status?.attempts ?? 0;
  const from = spec.fromNode ?? '';
  const { node, nowMs } = observed;
  const old = observed.pod && (spec.podUID === undefined || observed.pod.metadata.uid === spec.podUID) ? observed.pod : undefined;
  const other = observed.pod && !old ? observed.pod : undefined;
  const status = (phase: MigrationStatus['phase'], message: string, extra: Partial<MigrationStatus> = {}): MigrationStatus => ({ phase, message, attempts, ...extra });
  const succeeded = (message: string, extra: Partial<MigrationStatus> = {}) => ({ status: status('Succeeded', message, extra), event: { type: 'Normal' as const, reason: 'Migrated' as const, message } });

  if (old) {
    // Held (it can run nowhere else): it stays where it is, and the record stays Blocked.
    if (spec.heldReason !== undefined) {
      const message = spec.heldReason;
      return { action: 'none', status: status('Blocked', message), ...(record.status?.phase === 'Blocked' ? {} : { event: { type: 'Warning' as const, reason: 'MigrationBlocked' as const, message } }) };
    }
    const lostNow = node.kind === 'lost' || node.kind === 'gone';
    if (!lostNow && !old.metadata.deletionTimestamp) {
      if (spec.reason === 'node-lost') return { action: 'cancel', event: { type: 'Normal', reason: 'MigrationCancelled', message: `node ${from} is back before pod ${spec.pod} had to move` } };
      if (spec.reason === 'drain' && node.kind !== 'draining') return { action: 'cancel', event: { type: 'Normal', reason: 'MigrationCancelled', message: `the drain of node ${from} was undone before pod ${spec.pod} moved` } };
    }
    if (lostNow) {
      const confirmed = (node.kind === 'gone' && node.confirmed) || (node.kind === 'lost' && node.fenced);
      if (spec.method === 'delete' && !confirmed) {
        return { action: 'none', status: status('Pending', `StatefulSet pod ${spec.pod} stays until node ${from} is confirmed gone: delete the Node, taint it ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute, or annotate it ${FENCED_ANNOTATION}=true once the machine is off`) };
      }
      if (!confirmed) {
        if (node.kind === 'gone') return { action: 'none', status: status('Pending', `node ${from} is missing from the API; waiting to confirm it was deleted`) };
        const tol = spec.tolerationSeconds;
        if (tol === null) return { action: 'none', status: status('Pending', `pod ${spec.pod} tolerates node ${from} being unreachable for ever; it moves once the node is deleted or fenced`) };
        const waited = nowMs - (node.kind === 'lost' ? node.sinceMs : nowMs);
        if (tol !== undefined && waited < tol * 1000) {
          return { action: 'none', status: status('Pending', `node ${from} unreachable for ${seconds(waited)}s of the ${tol}s pod ${spec.pod} tolerates`) };
        }
      }
      const why = node.kind === 'gone' ? `node ${from} was deleted` : confirmed ? `node ${from} is fenced` : `node ${from} unreachable past the pod's toleration`;
      if (spec.method === 'evict') {
        return { action: 'delete', ...succeeded(`${why}: pod ${spec.pod} deleted; ${ownerNote(old)}`) };
      }
      return { action: 'delete', status: status('WaitingForReplacement', `${why}: pod ${spec.pod} deleted; ${spec.method === 'delete' ? 'waiting for its StatefulSet to re-create it' : 're-creating it from its source images'}`) };
    }
    if (old.metadata.deletionTimestamp) return { action: 'none', status: status('WaitingForReplacement', `waiting for pod ${spec.pod} to terminate on ${from}`) };
    if (spec.method === 'evict') return { action: 'evict', ...succeeded(`evicted from ${from}; ${ownerNote(old)}`) };
    return { action: 'evict', status: status('WaitingForReplacement', `evicted from ${from}; waiting for it to terminate`) };
  }

  // The pod being moved is gone.
  if (spec.method === 'evict') {
    return { action: 'none', ...succeeded(`pod ${spec.pod} left ${from}; its controller, if any, creates the replacement`) };
  }
  if (!other) {
    if (spec.method === 'delete') return { action: 'none', status: status('WaitingForReplacement', `pod ${spec.pod} left ${from}; waiting for its StatefulSet to re-create it`) };
    const template = spec.template as Pod | undefined;
    if (!template || typeof template !== 'object' || !template.spec || !Array.isArray(template.spec.containers)) {
      const message = `no pod template recorded for ${spec.pod}: it cannot be re-created`;
      return { action: 'none', status: status('Failed', message), event: { type: 'Warning', reason: 'MigrationFailed', message } };
    }
    return {
      action: 'create',
      pod: template,
      status: status('WaitingForReplacement', `re-created ${spec.pod} from its source images${spec.toPlatform ? ` for ${spec.toPlatform}` : ''}; waiting for the scheduler`, { replacement: template.metadata.name ?? '' }),
    };
  }
  // The replacement (same name, another incarnation): placed, refused, or waiting.
  const replacement = { replacement: other.metadata.name ?? '' };
  if (other.spec.nodeName) {
    const platform = other.metadata.annotations?.[PLATFORM_ANNOTATION];
    return {
      action: 'none',
      ...succeeded(`pod ${spec.pod} moved off ${from}: now on ${other.spec.nodeName}${platform ? ` (${platform})` : ''}`, { ...replacement, node: other.spec.nodeName, ...(platform ? { platform } : {}) }),
    };
  }
  const refused = scheduledFalse(other);
  if (refused !== undefined) {
    const message = `pod ${spec.pod} can run nowhere now: ${refused}`;
    return { action: 'none', status: status('Blocked', message, replacement), event: { type: 'Warning', reason: 'MigrationBlocked', message } };
  }
  return { action: 'none', status: status('WaitingForReplacement', `waiting for the scheduler to place ${spec.pod}`, replacement) };
}

function ownerNote(pod: Pod): string {
  const owner = controllerOf(pod);
  return owner ? `its ${owner.kind} ${owner.name} creates the replacement` : 'a bare pod: not re-created (recreateBarePods is off)';
}

/** The status after a refused or failed action: the phase says what is being tried, the message why it has not worked. */
export function refusedStatus(record: MigrationRecord, message: string): { status: MigrationStatus; event: EventSpec } {
  return {
    status: { ...(record.status ?? { phase: 'Pending' }), phase: 'Evicting', message, attempts: (record.status?.attempts ?? 0) + 1 },
    event: { type: 'Warning', reason: 'MigrationBlocked', message },
  };
}

/** Same phase and message: nothing to write (rounds repeat while waiting). */
export const sameStatus = (a: MigrationStatus | undefined, b: MigrationStatus): boolean => a?.phase === b.phase && a.message === b.message;
