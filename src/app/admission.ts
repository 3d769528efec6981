/**
 * The mutating admission use-case: on pod CREATE, constrain the pod to the platforms
 * its images exist for. Never waits on a registry: with every image's platforms in the
 * cache the affinity is written now; otherwise the pod is gated and the gate
 * controller finishes the job (scheduling gates can only be added at creation).
 */
import {
  annotationPatch, gatePatch, hasGate, hasRequiredArchAffinity, preferredPlatformTerms, requiredTerms, termsPatch, type ArchPreference,
} from '../core/admission/affinity.ts';
import { DECISION_ANNOTATION, OPT_OUT_LABEL, parseSourceImages, PLATFORM_GATE, SOURCE_IMAGES_ANNOTATION, sourceImagesValue } from '../core/k8s/annotations.ts';
import type { JsonPatchOp } from '../core/admission/json-patch.ts';
import { affinityTarget, podPlatforms } from '../core/admission/platforms.ts';
import { podImages, type PodLike } from '../core/admission/pod.ts';
import { admissionPlatforms, policyForPod } from '../core/placement/namespace-policy.ts';
import { DEFAULT_RELEASE_AFTER_MS, unreadableVerdict, type UnreadableFallback } from '../core/placement/unreadable-images.ts';
import type { PlacementPolicyReader } from '../ports/placement-policy.ts';
import { containerBounds, type ScalingPolicy } from '../core/autoscale/policy.ts';
import { boostAnnotation, boostPolicyFor, planBoost, STARTUP_BOOST_ANNOTATION, type BoostPodLike } from '../core/autoscale/startup-boost.ts';
import { cpuMilli } from '../core/units/amounts.ts';
import { isTransientImageError, type ImageLookupService } from './image-lookup.ts';

export interface AdmissionOptions {
  readonly resolver: ImageLookupService;
  readonly preferences: readonly ArchPreference[];
  /** Never touched: kube-system and polyarch's own namespace (its pods must start for the webhook to work). */
  readonly skipNamespaces: readonly string[];
  /** Per-namespace placement policies, read as the scheduler and the extender read them. */
  readonly policies?: PlacementPolicyReader;
  /** ScalingPolicies with a startupBoost, and the CPU room of the nodes (a snapshot kept fresh by the caller). */
  readonly startupBoost?: StartupBoostSource;
  /** When no policy says what to do with an image whose platforms cannot be read (serve: --gate-release-after-ms; default Unconstrained). */
  readonly unreadable?: UnreadableFallback;
}

export type AdmissionOutcome = 'mutated' | 'gated' | 'skipped';

export interface AdmissionDecision {
  readonly outcome: AdmissionOutcome;
  readonly patch: readonly JsonPatchOp[];
  readonly reason: string;
  /** Shown to the user by kubectl (AdmissionResponse.warnings). */
  readonly warnings: readonly string[];
}

export interface StartupBoostSource {
  policies(): readonly ScalingPolicy[];
  /** The most CPU (millicores) a pod may get and still fit a node; undefined when unknown (then no pod is boosted). */
  roomMilli(): number | undefined;
}

type ContainerWithCpu = { readonly name: string; readonly resources?: { readonly requests?: Record<string, string | number>; readonly limits?: Record<string, string | number> } | null };

/** The boost's JSON patch, and the pod as it is after it (the placement decision is made on it). */
export function boostAtCreation(pod: PodLike, namespace: string, source: StartupBoostSource): { patch: JsonPatchOp[]; pod: PodLike; reason: string } | undefined {
  if (pod.metadata?.annotations?.[STARTUP_BOOST_ANNOTATION]) return undefined;
  const policy = boostPolicyFor(source.policies(), pod as BoostPodLike, namespace);
  if (!policy?.spec.startupBoost) return undefined;
  // The boost is never above the nodes' room: with the nodes not read yet (a webhook just started), no boost.
  const room = source.roomMilli();
  if (room === undefined) return undefined;
  const containers = (pod.spec?.containers ?? []) as readonly ContainerWithCpu[];
  const plan = planBoost(
    containers.map((c) => ({ name: c.name, requestMilli: cpuMilli(c.resources?.requests?.['cpu']), limitMilli: cpuMilli(c.resources?.limits?.['cpu']) })),
    policy.spec.startupBoost,
    (name) => {
      const max = containerBounds(policy.spec, name).max.cpu;
      return max === undefined ? undefined : Math.round(max * 1000);
    },
    room,
  );
  if (plan.containers.length === 0) return undefined;
  const patch: JsonPatchOp[] = [];
  const boostedContainers = containers.map((c, i) => {
    const b = plan.containers.find((x) => x.name === c.name);
    if (!b) return c;
    patch.push({ op: 'replace', path: `/spec/containers/${i}/resources/requests/cpu`, value: b.to.request });
    if (b.to.limit !== undefined) patch.push({ op: 'replace', path: `/spec/containers/${i}/resources/limits/cpu`, value: b.to.limit });
    return { ...c, resources: { ...c.resources, requests: { ...c.resources?.requests, cpu: b.to.request }, ...(b.to.limit !== undefined ? { limits: { ...c.resources?.limits, cpu: b.to.limit } } : {}) } };
  });
  const value = boostAnnotation(plan, policy.spec.startupBoost);
  patch.push(...annotationPatch(pod, { [STARTUP_BOOST_ANNOTATION]: value }));
  const boosted = {
    ...pod,
    metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [STARTUP_BOOST_ANNOTATION]: value } },
    spec: { ...pod.spec, containers: boostedContainers },
  } as PodLike;
  return { patch, pod: boosted, reason: `startup boost (ScalingPolicy ${policy.namespace}/${policy.name}): ${plan.reasons.join('; ')}` };
}

const skip = (reason: string, warnings: string[] = []): AdmissionDecision => ({ outcome: 'skipped', patch: [], reason, warnings });

/**
 * Admission of a pod being created: the CPU startup boost of its ScalingPolicy, if any
 * (startup-boost.ts), then the platform constraint, decided on the boosted pod so the two
 * patches apply one after the other.
 */
export function admitPod(pod: PodLike, namespace: string, opts: AdmissionOptions): AdmissionDecision {
  if (opts.skipNamespaces.includes(namespace)) return skip(`namespace ${namespace} is excluded`);
  const boost = opts.startupBoost ? boostAtCreation(pod, namespace, opts.startupBoost) : undefined;
  if (!boost) return admitPlacement(pod, namespace, opts);
  const placed = admitPlacement(boost.pod, namespace, opts);
  return { ...placed, outcome: placed.outcome === 'skipped' ? 'mutated' : placed.outcome, patch: [...boost.patch, ...placed.patch], reason: `${boost.reason}; ${placed.reason}` };
}

function admitPlacement(pod: PodLike, namespace: string, opts: AdmissionOptions): AdmissionDecision {
  if (pod.metadata?.labels?.[OPT_OUT_LABEL] === 'false') return skip(`label ${OPT_OUT_LABEL}=false`);
  if (pod.spec?.nodeName) return skip(`already assigned to node ${pod.spec.nodeName}`);
  if (hasGate(pod)) return skip(`already gated by ${PLATFORM_GATE}`);
  const nsPolicy = opts.policies?.policyFor(namespace);
  const policy = nsPolicy ? policyForPod(nsPolicy, pod.metadata?.labels) : undefined;
  if (nsPolicy && !policy) return skip(`excluded by the excludePods selector of ${nsPolicy.source}`);
  const images = podImages(pod);
  if (images.length === 0) return skip('no containers');
  // Re-invoked after another webhook added containers (a sidecar): their images narrow the
  // constraint further (one more expression ANDed into each term). Otherwise a pod that
  // already names its architectures, by the user or by a previous pass, is left alone.
  const recorded = parseSourceImages(pod.metadata?.annotations?.[SOURCE_IMAGES_ANNOTATION]);
  const added = recorded ? images.filter((i) => !(i.container in recorded)) : [];
  if (hasRequiredArchAffinity(pod) && added.length === 0) return skip('already constrained to an architecture');

  const sourceImages: Record<string, string> = !recorded
    ? { [SOURCE_IMAGES_ANNOTATION]: sourceImagesValue(images) }
    : added.length > 0 ? { [SOURCE_IMAGES_ANNOTATION]: JSON.stringify({ ...recorded, ...JSON.parse(sourceImagesValue(added)) as Record<string, string> }) } : {};
  const { resolved, missing, failed } = opts.resolver.cachedPod(images);

  // Images whose platforms cannot be read: the one verdict the gate controller, the extender and the scheduler make too (at creation the pod's age is 0).
  const fallback = opts.unreadable ?? { action: 'Unconstrained', releaseAfterMs: DEFAULT_RELEASE_AFTER_MS };
  const verdict = unreadableVerdict(policy, fallback, failed.map((f) => ({ image: f.image.image, container: f.image.container, message: f.error.message, transient: isTransientImageError(f.error) })), 0);
  if (verdict?.action === 'block') {
    return { outcome: 'gated', patch: [...gatePatch(pod), ...annotationPatch(pod, { ...sourceImages, [DECISION_ANNOTATION]: verdict.reason })], reason: verdict.reason, warnings: [`polyarch: ${verdict.reason}`] };
  }
  if (missing.length > 0 || verdict?.action === 'wait') {
    const waiting = [...missing.map((m) => m.image), ...failed.map((f) => f.image.image)];
    const reason = `waiting for the platforms of ${[...new Set(waiting)].join(', ')}`;
    return { outcome: 'gated', patch: [...gatePatch(pod), ...annotationPatch(pod, { ...sourceImages, [DECISION_ANNOTATION]: reason })], reason, warnings: [] };
  }
  const unconstrained = verdict?.action === 'unconstrained' ? verdict : undefined;

  const platforms = podPlatforms(resolved);
  if (platforms.perArchTag) {
    const reason = 'images differ per architecture: the platform is chosen before scheduling';
    return { outcome: 'gated', patch: [...gatePatch(pod), ...annotationPatch(pod, { ...sourceImages, [DECISION_ANNOTATION]: reason })], reason, warnings: [] };
  }
  // Unconstrained images add no constraint; with none read, only the policy's platforms constrain.
  const narrowed = admissionPlatforms(resolved.length > 0 ? platforms.allowed : undefined, policy, opts.preferences);
  const warnings = unconstrained ? [`polyarch: ${unconstrained.reason}`] : [];
  if (!narrowed.allowed) {
    const reason = unconstrained?.reason ?? 'no image to constrain';
    return { outcome: 'skipped', patch: annotationPatch(pod, { ...sourceImages, [DECISION_ANNOTATION]: reason }), reason, warnings };
  }
  const target = affinityTarget(narrowed.allowed);
  if (!target) {
    const reason = platforms.allowed.length > 0 && policy
      ? `no platform the images have is allowed by ${policy.source} (${platforms.reasons.join('; ')})`
      : `no platform runs every container (${platforms.reasons.join('; ')})`;
    return { outcome: 'skipped', patch: annotationPatch(pod, { [DECISION_ANNOTATION]: reason }), reason, warnings: [`polyarch: ${reason}`] };
  }
  const variants = Object.entries(narrowed.variants).filter(([a]) => target.architectures.includes(a)).map(([a, vs]) => `${a}/{${vs.map((v) => v || 'v1').join(',')}}`);
  const reason = `required ${target.os}/{${target.architectures.join(',')}}${variants.length ? ` (variants ${variants.join(', ')})` : ''}: ${resolved.length > 0 ? 'the platforms every container has an image for' : 'every platform'}${policy?.platforms ? ` and ${policy.source} allows` : ''}${unconstrained ? `; ${unconstrained.reason}` : ''}`;
  const affinity = termsPatch(pod, requiredTerms(target, narrowed.variants), preferredPlatformTerms(target.architectures, narrowed.preferences), true);
  const patch = [
    ...affinity.ops,
    ...annotationPatch(pod, { ...sourceImages, [DECISION_ANNOTATION]: reason }),
  ];
  return { outcome: 'mutated', patch, reason, warnings };
}
