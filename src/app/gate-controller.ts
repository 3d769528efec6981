/**
 * Finishes what admission could not do without waiting on a registry: for each pod
 * carrying the `polyarch.io/platform` scheduling gate, resolve its images, write the
 * required node affinity (and, for per-architecture-tag images, pick the platform and
 * write that variant), then lift the gate, all in one patch.
 */
import { runEvery } from './run-loop.ts';
import {
  affinityPatch, annotationPatch, hasRequiredArchAffinity, imagePatch, preferredPlatformTerms, removeGatePatch, requiredExpressions, requiredTerms, termsPatch, type ArchPreference,
} from '../core/admission/affinity.ts';
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, PLATFORM_GATE, parseSourceImages, SOURCE_IMAGES_ANNOTATION, sourceImagesValue } from '../core/k8s/annotations.ts';
import { placementChoice, type NodeLike, type PlatformChoice } from './placement-choice.ts';
import type { JsonPatchOp } from '../core/admission/json-patch.ts';
import { affinityTarget, needsVariantWrite, podPlatforms, type ResolvedImage } from '../core/admission/platforms.ts';
import { bestVariant } from '../core/placement/pod-info.ts';
import { podImages, podName, type PodLike } from '../core/admission/pod.ts';
import { displayPlatform } from '../core/placement/display.ts';
import { admissionPlatforms, policyForPod, type EffectivePlacementPolicy } from '../core/placement/namespace-policy.ts';
import { fallbackFromReleaseAfter, podAgeMs, unreadableVerdict } from '../core/placement/unreadable-images.ts';
import type { Clock } from '../ports/clock.ts';
import type { PlacementPolicyReader } from '../ports/placement-policy.ts';
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { PodJsonPatcher } from '../ports/pod-json-patch.ts';
import { isTransientImageError, type ImageLookupService } from './image-lookup.ts';

export type GateCluster = Pick<ClusterReader, 'listNodes'> & Pick<ClusterWriter, 'recordEvent'> & PodJsonPatcher;

export interface GateControllerOptions {
  readonly cluster: GateCluster;
  readonly resolver: ImageLookupService;
  readonly clock: Clock;
  readonly preferences: readonly ArchPreference[];
  readonly deadlineMs: number;
  /**
   * serve's --gate-release-after-ms: the built-in unreadableImages fallback
   * (core/placement/unreadable-images.ts fallbackFromReleaseAfter): a pod whose images
   * still cannot be read after this long is released without a constraint from them (as
   * failurePolicy Ignore would have admitted it) rather than kept pending forever. 0: Block.
   */
  readonly releaseAfterMs: number;
  /** Poll interval of run(). */
  readonly intervalMs: number;
  /** Per-namespace placement policies (allowed platforms, preferences, unreadableImages), as the webhook reads them. */
  readonly policies?: PlacementPolicyReader;
  /** Picks the platform for per-architecture-tag images; the placement core's (placement-choice.ts) by default. */
  readonly choose?: (images: readonly ResolvedImage[], nodes: readonly NodeLike[], preferences: readonly ArchPreference[], pod: PodLike, policy?: EffectivePlacementPolicy) => PlatformChoice;
}

export type GateOutcome = 'lifted' | 'released' | 'waiting' | 'refused' | 'failed';

export interface GateResult {
  readonly pod: string;
  readonly outcome: GateOutcome;
  readonly reason: string;
}

export class GateController {
  constructor(private readonly opts: GateControllerOptions) {}

  /** One pass over every gated pod; returns what happened to each. */
  async runOnce(signal?: AbortSignal): Promise<GateResult[]> {
    const pods = await this.opts.cluster.listGatedPods(PLATFORM_GATE);
    if (!pods.ok) return [{ pod: '*', outcome: 'failed', reason: `listing gated pods: ${pods.error.message}` }];
    const out: GateResult[] = [];
    for (const pod of pods.value) {
      if (signal?.aborted) break;
      out.push(await this.reconcile(pod, signal));
    }
    return out;
  }

  /**
   * Polls until the signal aborts, through the app's one loop (run-loop.ts runEvery): a
   * pass that throws is reported to `onError` and the next pass goes on, as the migrator
   * and the autoscaler do. Each pass is independent, so a restart carries on from the API's state.
   */
  run(signal: AbortSignal, onResult: (r: GateResult) => void, onError: (err: unknown) => void): Promise<void> {
    return runEvery({
      signal, clock: this.opts.clock, intervalMs: this.opts.intervalMs, onError,
      round: async () => {
        for (const r of await this.runOnce(signal)) onResult(r);
      },
    });
  }

  async reconcile(pod: PodLike, signal?: AbortSignal): Promise<GateResult> {
    const name = podName(pod);
    const ref = { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
    const images = podImages(pod);
    const recorded = parseSourceImages(pod.metadata?.annotations?.[SOURCE_IMAGES_ANNOTATION]);
    const originals = images.map((i) => ({ ...i, image: recorded?.[i.container] ?? i.image }));
    const records: Record<string, string> = recorded ? {} : { [SOURCE_IMAGES_ANNOTATION]: sourceImagesValue(originals) };
    const policy = this.opts.policies ? policyForPod(this.opts.policies.policyFor(ref.namespace), pod.metadata?.labels) : undefined;
    const settled = await this.opts.resolver.settlePod(pod, originals, { waitMs: this.opts.deadlineMs, signal });
    // The one unreadableImages verdict (the webhook, the extender and the scheduler make it too).
    const verdict = unreadableVerdict(policy, fallbackFromReleaseAfter(this.opts.releaseAfterMs), settled.failed.map((f) => ({
      image: f.image.image, container: f.image.container, message: f.error.message, transient: isTransientImageError(f.error),
    })), podAgeMs(pod as { metadata?: { creationTimestamp?: unknown } }, this.opts.clock.now()));
    if (verdict?.action === 'wait') return { pod: name, outcome: 'waiting', reason: verdict.reason };
    if (verdict?.action === 'block') return this.refuse(ref, name, pod, verdict.reason, 'PlatformHeld');
    const resolved = { value: settled.resolved };
    if (verdict?.action === 'unconstrained' && resolved.value.length === 0 && !policy?.platforms) {
      const reason = `released without a platform constraint: ${verdict.reason}`;
      return this.write(ref, name, [...annotationPatch(pod, { ...records, [DECISION_ANNOTATION]: reason }), ...removeGatePatch(pod)], 'released', reason, 'Warning', pod);
    }

    const platforms = podPlatforms(resolved.value);
    const ops: JsonPatchOp[] = [];
    let reason: string;
    let annotations: Record<string, string> = { ...records };
    if (platforms.perArchTag) {
      let nodes: readonly NodeLike[];
      try {
        nodes = await this.opts.cluster.listNodes();
      } catch (err) {
        return { pod: name, outcome: 'failed', reason: `listing nodes: ${err instanceof Error ? err.message : String(err)}` };
      }
      const choice = (this.opts.choose ?? placementChoice)(resolved.value, nodes, this.opts.preferences, pod, policy);
      if (!choice.ok) return this.refuse(ref, name, pod, `no platform for the per-architecture images: ${choice.reason}`);
      const target = { os: choice.platform.os, architectures: [choice.platform.architecture] };
      if (!hasRequiredArchAffinity(pod)) ops.push(...affinityPatch(pod, requiredExpressions(target), []));
      const changes = resolved.value.flatMap((r) => {
        const v = needsVariantWrite(r.platforms) ? bestVariant(r.platforms.platforms, choice.platform) : undefined;
        const current = images.find((x) => x.kind === r.image.kind && x.index === r.image.index);
        return v && current ? [{ image: current, to: v.image }] : [];
      });
      ops.push(...imagePatch(changes));
      const platform = displayPlatform(choice.platform);
      reason = `gate: chose ${choice.reason}; wrote the ${platform} variants`;
      annotations = { ...annotations, [PLATFORM_ANNOTATION]: platform };
    } else {
      const narrowed = admissionPlatforms(resolved.value.length > 0 ? platforms.allowed : undefined, policy, this.opts.preferences);
      const target = affinityTarget(narrowed.allowed ?? []);
      if (!target) return this.refuse(ref, name, pod, `no platform runs every container${policy?.platforms ? ` and is allowed by ${policy.source}` : ''} (${platforms.reasons.join('; ')})`);
      let exact = true;
      if (!hasRequiredArchAffinity(pod)) {
        // A gated pod's terms can only gain expressions (KEP-3838): variants only when it has no terms of its own.
        const written = termsPatch(pod, requiredTerms(target, narrowed.variants), preferredPlatformTerms(target.architectures, narrowed.preferences), false);
        ops.push(...written.ops);
        exact = written.exact;
      }
      reason = `gate: required ${target.os}/{${target.architectures.join(',')}}: ${resolved.value.length > 0 ? 'the platforms every container has an image for' : 'every platform'}${policy?.platforms ? ` and ${policy.source} allows` : ''}${exact ? '' : ' (variants left to the scheduler: the pod has terms of its own)'}${verdict ? `; ${verdict.reason}` : ''}`;
    }
    ops.push(...annotationPatch(pod, { ...annotations, [DECISION_ANNOTATION]: reason }), ...removeGatePatch(pod));
    return this.write(ref, name, ops, 'lifted', reason, 'Normal', pod);
  }

  /** Keeps the gate (no node could run the pod, scheduling it would only crash-loop) and says why, once. */
  private async refuse(ref: { namespace: string; name: string }, name: string, pod: PodLike, reason: string, event = 'PlatformRefused'): Promise<GateResult> {
    if (pod.metadata?.annotations?.[DECISION_ANNOTATION] === reason) return { pod: name, outcome: 'refused', reason };
    const r = await this.write(ref, name, annotationPatch(pod, { [DECISION_ANNOTATION]: reason }), 'refused', reason, 'Warning', undefined, event);
    return r;
  }

  /**
   * Applies the patch and records the event. When the API server refuses the change itself
   * (invalid or forbidden: e.g. a server that does not let a gated pod's affinity change),
   * retrying cannot help: the pod keeps its gate and says so, once, in its decision
   * annotation and a Warning event, instead of a log line every pass.
   */
  private async write(ref: { namespace: string; name: string }, name: string, ops: JsonPatchOp[], outcome: GateOutcome, reason: string, type: 'Normal' | 'Warning', pod?: PodLike, event?: string): Promise<GateResult> {
    const r = await this.opts.cluster.jsonPatchPod(ref, ops);
    if (!r.ok && pod && (r.error.kind === 'invalid' || r.error.kind === 'forbidden')) {
      return this.refuse(ref, name, pod, `gate kept: the API server refused to ${outcome === 'released' ? 'release' : 'lift'} it (${reason}): ${r.error.message}`, 'PlatformGateNotLifted');
    }
    if (!r.ok) return { pod: name, outcome: 'failed', reason: `patch: ${r.error.message}` };
    const why = event ?? (outcome === 'lifted' ? 'PlatformGateLifted' : outcome === 'released' ? 'PlatformGateReleased' : 'PlatformRefused');
    await this.opts.cluster.recordEvent({ involved: { kind: 'Pod', namespace: ref.namespace, name: ref.name }, type, reason: why, message: reason });
    return { pod: name, outcome, reason };
  }
}
