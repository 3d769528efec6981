/**
 * S2-S4 for one pod and for a queue of pods: prepare the pod's cycle state, run the
 * cycle, select each container's image variant for the chosen node's platform, and
 * produce the pod as it will be created. placePods assumes each placement in the
 * snapshot before the next pod, as kube-scheduler's cache does.
 */

import { samePlatform, type Platform } from '../platform/platform.ts';
import { needsVariantWrite, type PlatformImage } from '../image/types.ts';
import { displayPlatform } from './display.ts';
import type { Container, Pod } from '../k8s/types.ts';
import { podKey } from '../k8s/types.ts';
import { failureSummary, successSummary, type Decision, type ImageChoice } from './decision.ts';
import { runCycle, type Framework } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';
import { applyPlacementPolicy, frameworkForPolicy, type EffectivePlacementPolicy } from './namespace-policy.ts';
import { preparePod, type ImageLookup, type PodImage, type PodInfo } from './pod-info.ts';
import type { Rng } from '../rng.ts';
import type { ClusterSnapshot } from './snapshot.ts';

/**
 * S3: the variant of each image for the node's platform; undefined if one has none (the
 * platform filter prevents it). `pin`: every variant is written into the pod, not only
 * those the pod's own reference would not give (the framework's pinImages).
 */
export function chooseImages(pod: PodInfo, node: NodeInfo, pin = false): ImageChoice[] | undefined {
  const platform = node.platform;
  if (!platform) return pod.images.length === 0 ? [] : undefined;
  const variants = pod.variantsFor(platform);
  if (variants.length !== pod.images.length) return undefined;
  return pod.images.map((img, i) => {
    const v = variants[i];
    if (!v) throw new Error('unreachable: variants and images differ in length');
    return {
      container: img.container, init: img.init, original: img.original, image: v.image, platform: displayPlatform(v.platform),
      exact: samePlatform(v.platform, platform), write: pin || mustWrite(img, v, platform),
    };
  });
}

/**
 * Whether the node runs `chosen` only if the pod names it. Not when the pod still has
 * the reference that was looked up (or names `chosen` already), the registry serves that
 * reference itself as an index or a single image (not as per-architecture tags), and
 * the list has no other entry for the node's OS and architecture, withheld entries
 * included: whatever variant the node's runtime believes it has, the only entry it can
 * pull for its architecture is the chosen one (core/kube-model/runtime.ts).
 */
export function mustWrite(img: PodImage, chosen: PlatformImage, node: Platform): boolean {
  if (img.current === chosen.image) return false;
  if (img.current !== img.original || img.source === undefined || needsVariantWrite({ source: img.source })) return true;
  const sameArch = (p: PlatformImage): boolean => p.platform.os === node.os && p.platform.architecture === node.architecture;
  return img.platforms.filter(sameArch).length + (img.withheld ?? []).filter(sameArch).length !== 1;
}

/** S4: the pod with the chosen variants that are written, the original references and platform recorded, bound to the node. */
export function bindPod(pod: Pod, nodeName: string, platform: string, choices: readonly ImageChoice[], reason: string): Pod {
  const byName = new Map(choices.map((c) => [`${c.init ? 'init' : 'app'}/${c.container}`, c]));
  const swap = (init: boolean) => (c: Container): Container => {
    const choice = byName.get(`${init ? 'init' : 'app'}/${c.name}`);
    return choice?.write ? { ...c, image: choice.image } : c;
  };
  const sources: Record<string, string> = {};
  for (const c of choices) sources[c.container] = c.original;
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: {
        ...(pod.metadata.annotations ?? {}),
        [SOURCE_IMAGES_ANNOTATION]: JSON.stringify(sources),
        [PLATFORM_ANNOTATION]: platform,
        [DECISION_ANNOTATION]: reason,
      },
    },
    spec: {
      ...pod.spec,
      nodeName,
      containers: pod.spec.containers.map(swap(false)),
      ...(pod.spec.initContainers ? { initContainers: pod.spec.initContainers.map(swap(true)) } : {}),
    },
  };
}

/** A decision not to place a pod, with no node examined. */
export function refused(pod: Pod, priority: number, outcome: 'unschedulable' | 'invalid', reason: string, total: number): Decision {
  return {
    pod: podKey(pod), outcome, node: null, platform: null, images: {}, reason, priority,
    nodes: { total, evaluated: 0, feasible: 0 }, failures: {}, supportedPlatforms: [], choices: [], candidates: [], boundPod: null,
  };
}

export interface ScheduleOptions {
  /** The pod's priority (from its PriorityClass); default spec.priority or 0. */
  readonly priority?: number;
  /** The namespace's placement policy for this pod (namespace-policy.ts policyForPod): narrows its platforms. */
  readonly policy?: EffectivePlacementPolicy | undefined;
}

/** Decides where one pod goes, without assuming it. */
export function schedulePod(base: Framework, snapshot: ClusterSnapshot, pod: Pod, lookup: ImageLookup, rng: Rng, options: ScheduleOptions = {}): { decision: Decision; info: PodInfo | undefined } {
  const priority = options.priority ?? pod.spec.priority ?? 0;
  const fw = frameworkForPolicy(base, options.policy);
  const prepared = preparePod(pod, fw.platformAware ? lookup : undefined, priority);
  if (!prepared.ok) {
    const total = snapshot.size;
    const reason = prepared.kind === 'invalid' ? `invalid pod: ${prepared.error}` : total === 0 ? failureSummary(0, {}) : `0/${total} nodes are available: ${prepared.error}.`;
    return { decision: refused(pod, priority, prepared.kind === 'invalid' ? 'invalid' : 'unschedulable', reason, total), info: undefined };
  }
  const info = applyPlacementPolicy(prepared.value, options.policy);
  const cycle = runCycle(fw, snapshot, info, rng);
  const supported = info.supportedPlatforms.map(displayPlatform);
  const failures = Object.fromEntries(cycle.failures);
  const nodes = { total: cycle.total, evaluated: cycle.evaluated, feasible: cycle.feasible };
  const chosen = cycle.node;
  // A platform-blind profile starts the images as written (S3 and S4 are polyarch's).
  const choices = chosen ? (fw.platformAware ? chooseImages(info, chosen, fw.pinImages) : []) : undefined;
  if (!chosen || !choices) {
    return {
      decision: { ...refused(pod, priority, 'unschedulable', failureSummary(cycle.total, cycle.failures), cycle.total), nodes, failures, supportedPlatforms: supported, candidates: cycle.candidates },
      info,
    };
  }
  const platform = chosen.platformKey;
  const reason = successSummary(fw, cycle);
  const images: Record<string, string> = {};
  for (const c of choices) images[c.container] = c.image;
  return {
    decision: {
      pod: info.key, outcome: 'scheduled', node: chosen.name, platform, images, reason, priority, nodes, failures,
      supportedPlatforms: supported, choices, candidates: cycle.candidates,
      boundPod: fw.platformAware ? bindPod(pod, chosen.name, platform, choices, `${chosen.name} (${platform}): ${reason}`) : { ...pod, spec: { ...pod.spec, nodeName: chosen.name } },
    },
    info,
  };
}

/** Decides and, when placed, assumes the pod on its node so later pods see the allocation. */
export function placePod(fw: Framework, snapshot: ClusterSnapshot, pod: Pod, lookup: ImageLookup, rng: Rng, options: ScheduleOptions = {}): Decision {
  const { decision, info } = schedulePod(fw, snapshot, pod, lookup, rng, options);
  if (decision.outcome === 'scheduled' && info && decision.node) {
    const r = snapshot.assume(info, decision.node);
    if (!r.ok) return { ...refused(pod, decision.priority, 'invalid', r.error, snapshot.size) };
  }
  return decision;
}

export interface PodWithPriority {
  readonly pod: Pod;
  readonly priority: number;
}

/** Places pods one after another in the order given (see queue.ts for kube-scheduler's order). */
export function placePods(fw: Framework, snapshot: ClusterSnapshot, queue: readonly PodWithPriority[], lookup: ImageLookup, rng: Rng): Decision[] {
  return queue.map((q) => placePod(fw, snapshot, q.pod, lookup, rng, { priority: q.priority }));
}
