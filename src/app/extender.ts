/**
 * The scheduler-extender use-case (filter, prioritize, bind) behind kube-scheduler,
 * through the placement core's `extender` profile: S2's NodePlatform filter and the
 * ImageVariant and ArchitecturePreference scores, S3's variant choice and S4's
 * write-and-bind; kube-scheduler does resources, taints and affinity itself. Filter and
 * bind judge the same images (the recorded originals of a migrated pod, else the
 * images as written) with the same filters, so bind refuses a node filter refused.
 */
import type { ArchPreference } from '../core/admission/affinity.ts';
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION, sourceImages, sourceImagesValue } from '../core/k8s/annotations.ts';
import { podName, type PodLike } from '../core/admission/pod.ts';
import type { Node, Pod } from '../core/k8s/types.ts';
import { podImageReferences } from '../core/placement/batch.ts';
import { createFramework, evaluateNodes, runFilters, type Framework } from '../core/placement/framework.ts';
import { applyPlacementPolicy, frameworkForPolicy, policyForPod } from '../core/placement/namespace-policy.ts';
import { MAX_NODE_SCORE } from '../core/placement/plugin.ts';
import { preparePod, unconstrainedImage, type PodInfo } from '../core/placement/pod-info.ts';
import { podAgeMs, unreadableVerdict, type UnreadableFallback } from '../core/placement/unreadable-images.ts';
import { chooseImages } from '../core/placement/schedule.ts';
import { ClusterSnapshot } from '../core/placement/snapshot.ts';
import type { Clock } from '../ports/clock.ts';
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { PlacementPolicyReader } from '../ports/placement-policy.ts';
import { isTransientImageError, knownImages, type ImageLookupService } from './image-lookup.ts';
import type { NodeLike } from './placement-choice.ts';

/** k8s.io/kube-scheduler/extender/v1 MaxExtenderPriority. */
export const MAX_EXTENDER_PRIORITY = 10;

/** A 0-100 score (kube-scheduler's MaxNodeScore) as an extender priority 0-10, clamped. */
export function toExtenderPriority(score: number): number {
  return Math.max(0, Math.min(MAX_EXTENDER_PRIORITY, Math.round((score * MAX_EXTENDER_PRIORITY) / MAX_NODE_SCORE)));
}

/** The cluster reads and writes the extender makes: S4's patch and bind, through the same port as polyarch's own scheduler. */
export type ExtenderCluster = Pick<ClusterReader, 'getPod' | 'getNode'> & Pick<ClusterWriter, 'patchPod' | 'bindPod' | 'recordEvent'>;

export interface ExtenderOptions {
  readonly resolver: ImageLookupService;
  readonly cluster: ExtenderCluster;
  readonly clock: Clock;
  /** Longest a registry lookup may hold a kube-scheduler call (its httpTimeout is 30 s by default, and it blocks a scheduling cycle). */
  readonly deadlineMs: number;
  readonly preferences: readonly ArchPreference[];
  /** Per-namespace placement policies, read as the scheduler and the webhook read them. */
  readonly policies?: PlacementPolicyReader;
  /** When no policy says what to do with an image whose platforms cannot be read (serve: --gate-release-after-ms; default Block). */
  readonly unreadable?: UnreadableFallback;
}

/** ExtenderArgs after validation: `nodes` when kube-scheduler sends whole Nodes, `nodeNames` when nodeCacheCapable. */
export interface ExtenderInput {
  readonly pod: PodLike;
  readonly nodes?: readonly NodeLike[];
  readonly nodeNames?: readonly string[];
}

export interface FilterAnswer {
  /** The passing nodes, in the form they came in (objects or names). */
  readonly nodes?: readonly NodeLike[];
  readonly nodeNames?: readonly string[];
  readonly failed: Readonly<Record<string, string>>;
  readonly unresolvable: Readonly<Record<string, string>>;
  /** Non-empty: kube-scheduler treats the call as failed (or skips the extender when ignorable). */
  readonly error: string;
}

export interface BindInput {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUID: string;
  readonly node: string;
}

/** The pod's cycle state, or why there is none: an error (the call fails) or a verdict on every node. */
type Prepared = { ok: true; info: PodInfo; framework: Framework } | { ok: false; error: string } | { ok: false; refuseAll: string };

type Candidates = { ok: true; nodes: NodeLike[]; missing: Record<string, string> } | { ok: false; error: string };

export class Extender {
  private readonly framework: Framework;
  private lastSnapshot: { readonly nodes: readonly NodeLike[]; readonly snapshot: ClusterSnapshot } | undefined;

  constructor(private readonly opts: ExtenderOptions) {
    const architecturePreference: Record<string, number> = {};
    for (const p of opts.preferences) architecturePreference[p.architecture] = p.weight;
    const fw = createFramework({ profile: 'extender', architecturePreference });
    if (!fw.ok) throw new Error(`extender preferences: ${fw.error}`);
    this.framework = fw.value;
  }

  /** S1 for the pod's images (recorded originals first), then its cycle state. */
  private async prepare(pod: PodLike, signal?: AbortSignal): Promise<Prepared> {
    const p = pod as Pod;
    if (!Array.isArray(p.spec?.containers)) return { ok: false, error: `pod ${podName(pod)}: spec.containers: required` };
    const refs = podImageReferences(p);
    const settled = await this.opts.resolver.settlePod(p, refs.map((r, index) => ({ kind: 'containers' as const, index, container: r.container, image: r.reference })), { waitMs: this.opts.deadlineMs, signal });
    const policy = this.opts.policies ? policyForPod(this.opts.policies.policyFor(p.metadata?.namespace ?? 'default'), p.metadata?.labels) : undefined;
    // The one unreadableImages verdict (the webhook, its gate controller and the scheduler make it too).
    const verdict = unreadableVerdict(policy, this.opts.unreadable ?? { action: 'Block', releaseAfterMs: 0 }, settled.failed.map((f) => ({
      image: f.image.image, container: f.image.container, message: f.error.message, transient: isTransientImageError(f.error),
    })), podAgeMs(p, this.opts.clock.now()));
    if (verdict?.action === 'wait') return { ok: false, error: `pod ${podName(pod)}: ${verdict.reason}` };
    if (verdict?.action === 'block') return { ok: false, refuseAll: verdict.reason };
    const known = knownImages(settled.resolved);
    if (verdict?.action === 'unconstrained') for (const ref of verdict.images) known.set(ref, unconstrainedImage(ref, verdict.reason));
    const prepared = preparePod(p, (ref) => known.get(ref));
    if (prepared.ok) return { ok: true, info: applyPlacementPolicy(prepared.value, policy), framework: frameworkForPolicy(this.framework, policy) };
    if (prepared.kind === 'invalid') return { ok: false, error: `pod ${podName(pod)}: invalid pod: ${prepared.error}` };
    return { ok: false, refuseAll: prepared.error };
  }

  private async candidates(input: ExtenderInput, signal?: AbortSignal): Promise<Candidates> {
    if (input.nodes) return { ok: true, nodes: [...input.nodes], missing: {} };
    const names = input.nodeNames ?? [];
    const missing: Record<string, string> = {};
    const nodes: NodeLike[] = [];
    try {
      const got = await Promise.all(names.map(async (n) => [n, await this.opts.cluster.getNode(n)] as const));
      for (const [name, node] of got) {
        if (node) nodes.push(node);
        else missing[name] = `node ${name} is not in polyarch's node cache`;
      }
    } catch (err) {
      return { ok: false, error: `reading nodes: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (signal?.aborted) return { ok: false, error: 'cancelled' };
    return { ok: true, nodes, missing };
  }

  /** The candidates through the extender profile's filters and scores. */
  private evaluate(prepared: { info: PodInfo; framework: Framework }, nodes: readonly NodeLike[], score: boolean): ReturnType<typeof evaluateNodes> {
    return evaluateNodes(prepared.framework, this.snapshotOf(nodes), prepared.info, nodes.map((n) => n.metadata?.name ?? ''), { score });
  }

  /**
   * The candidates' snapshot, kept for the next request with the same node objects:
   * kube-scheduler asks about the same nodes pod after pod, and the node cache hands out
   * the same object until the node changes (a changed node is a new object), so the
   * nodes' state is not rebuilt per request. Evaluation only reads the snapshot.
   */
  private snapshotOf(nodes: readonly NodeLike[]): ClusterSnapshot {
    const last = this.lastSnapshot;
    if (last && last.nodes.length === nodes.length && last.nodes.every((n, i) => n === nodes[i])) return last.snapshot;
    const snapshot = ClusterSnapshot.fromNodes(nodes as readonly Node[]);
    this.lastSnapshot = { nodes: [...nodes], snapshot };
    return snapshot;
  }

  async filter(input: ExtenderInput, signal?: AbortSignal): Promise<FilterAnswer> {
    const byName = input.nodeNames !== undefined;
    const fail = (error: string): FilterAnswer => ({ ...(byName ? { nodeNames: [] } : { nodes: [] }), failed: {}, unresolvable: {}, error });
    const prepared = await this.prepare(input.pod, signal);
    if (!prepared.ok && 'error' in prepared) return fail(prepared.error);
    const cands = await this.candidates(input, signal);
    if (!cands.ok) return fail(cands.error);
    const failed: Record<string, string> = { ...cands.missing };
    const unresolvable: Record<string, string> = {};
    let passed = new Set<string>();
    if (!prepared.ok) {
      for (const n of cands.nodes) unresolvable[n.metadata?.name ?? ''] = prepared.refuseAll;
    } else {
      const out = this.evaluate(prepared, cands.nodes, false);
      passed = new Set(out.feasible.map((f) => f.node));
      const hard = new Set(out.unresolvable);
      for (const [name, reason] of Object.entries(out.failed)) {
        if (hard.has(name)) unresolvable[name] = reason;
        else failed[name] = reason;
      }
    }
    const names = cands.nodes.map((n) => n.metadata?.name ?? '');
    if (byName) return { nodeNames: names.filter((n) => passed.has(n)), failed, unresolvable, error: '' };
    return { nodes: cands.nodes.filter((n) => passed.has(n.metadata?.name ?? '')), failed, unresolvable, error: '' };
  }

  /** HostPriorityList, 0-10 each; an error makes kube-scheduler ignore this extender's scores for the pod. */
  async prioritize(input: ExtenderInput, signal?: AbortSignal): Promise<{ ok: true; value: { host: string; score: number }[] } | { ok: false; error: string }> {
    const prepared = await this.prepare(input.pod, signal);
    if (!prepared.ok && 'error' in prepared) return { ok: false, error: prepared.error };
    const cands = await this.candidates(input, signal);
    if (!cands.ok) return { ok: false, error: cands.error };
    const totals = new Map<string, number>();
    if (prepared.ok) {
      const weights = prepared.framework.scores.reduce((s, w) => s + w.weight, 0);
      for (const f of this.evaluate(prepared, cands.nodes, true).feasible) totals.set(f.node, weights > 0 ? f.total / weights : 0);
    }
    const scores = cands.nodes.map((n) => ({ host: n.metadata?.name ?? '', score: toExtenderPriority(totals.get(n.metadata?.name ?? '') ?? 0) }));
    for (const name of Object.keys(cands.missing)) scores.push({ host: name, score: 0 });
    return { ok: true, value: scores };
  }

  /**
   * S3 + S4: re-checks the node with the filters /filter ran (kube-scheduler may call
   * bind with any node), writes the variant for the node and the records, then binds.
   * Returns the error text ('' on success).
   */
  async bind(input: BindInput, signal?: AbortSignal): Promise<string> {
    const ref = { namespace: input.podNamespace, name: input.podName };
    const where = `pod ${input.podNamespace}/${input.podName}`;
    let pod: Pod | undefined;
    let node: Node | undefined;
    try {
      [pod, node] = await Promise.all([this.opts.cluster.getPod(ref), this.opts.cluster.getNode(input.node)]);
    } catch (err) {
      return `${where}: reading the cluster: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!pod) return `${where}: not found`;
    const uid = pod.metadata?.uid;
    if (input.podUID && uid && uid !== input.podUID) return `${where}: uid is ${uid}, not ${input.podUID} (the pod was re-created)`;
    if (pod.spec?.nodeName) return `${where}: already bound to ${pod.spec.nodeName}`;
    if (!node) return `${where}: node ${input.node} not found`;

    const prepared = await this.prepare(pod, signal);
    if (!prepared.ok) return 'error' in prepared ? prepared.error : `${where}: node ${input.node}: ${prepared.refuseAll}`;
    const info = ClusterSnapshot.fromNodes([node]).node(input.node);
    if (!info) return `${where}: node ${input.node} not found`;
    const status = runFilters(prepared.framework, prepared.info, info);
    if (status.code !== 'Success') return `${where}: node ${input.node}: ${status.reasons.join(', ')}`;
    const choices = chooseImages(prepared.info, info);
    if (!choices) return `${where}: node ${input.node}: no variant of every image runs there`;

    const platform = info.platformKey;
    const variants: Record<string, string> = {};
    for (const c of choices) variants[c.container] = c.image;
    const recorded = Object.keys(sourceImages(pod)).length > 0;
    const patched = await this.opts.cluster.patchPod(ref, {
      images: variants,
      annotations: {
        ...(recorded ? {} : { [SOURCE_IMAGES_ANNOTATION]: sourceImagesValue(choices.map((c) => ({ container: c.container, image: c.original }))) }),
        [PLATFORM_ANNOTATION]: platform,
        [DECISION_ANNOTATION]: `extender: node ${input.node} is ${platform}; every container has a variant for it`,
      },
    });
    if (!patched.ok) return `${where}: writing the ${platform} variant: ${patched.error.message}`;
    const bound = await this.opts.cluster.bindPod(ref, input.node);
    if (!bound.ok) return `${where}: binding to ${input.node}: ${bound.error.message}`;
    await this.opts.cluster.recordEvent({ involved: { kind: 'Pod', namespace: ref.namespace, name: ref.name }, type: 'Normal', reason: 'PlatformSelected', message: `${platform} variant written for node ${input.node}` });
    return '';
  }
}
