/**
 * The scheduler-extender use-case (filter, prioritize, bind) behind kube-scheduler:
 * S2's platform filter and score, S3's variant choice and S4's write-and-bind, with
 * kube-scheduler doing resources, taints and affinity itself.
 */
import type { ArchPreference } from '../core/admission/affinity.ts';
import { DECISION_ANNOTATION, PLATFORM_ANNOTATION, SOURCE_IMAGES_ANNOTATION, sourceImagesValue, parseSourceImages } from '../core/k8s/annotations.ts';
import { filterNodes, scoreFit, toExtenderPriority, type NodeLike } from '../core/admission/choose.ts';
import { nodeFit } from '../core/admission/platforms.ts';
import { podImages, podName, type PodLike } from '../core/admission/pod.ts';
import { formatPlatform } from '../core/platform/platform.ts';
import type { Clock } from '../ports/clock.ts';
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { ImageLookupService } from './image-lookup.ts';

/** The cluster reads and writes the extender makes: S4's patch and bind, through the same port as polyarch's own scheduler. */
export type ExtenderCluster = Pick<ClusterReader, 'getPod' | 'getNode'> & Pick<ClusterWriter, 'patchPod' | 'bindPod' | 'recordEvent'>;

export interface ExtenderOptions {
  readonly resolver: ImageLookupService;
  readonly cluster: ExtenderCluster;
  readonly clock: Clock;
  /** Longest a registry lookup may hold a kube-scheduler call (its httpTimeout is 30 s by default, and it blocks a scheduling cycle). */
  readonly deadlineMs: number;
  readonly preferences: readonly ArchPreference[];
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

type Candidates = { ok: true; nodes: NodeLike[]; missing: Record<string, string> } | { ok: false; error: string };

export class Extender {
  constructor(private readonly opts: ExtenderOptions) {}

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

  async filter(input: ExtenderInput, signal?: AbortSignal): Promise<FilterAnswer> {
    const byName = input.nodeNames !== undefined;
    const fail = (error: string): FilterAnswer => ({ ...(byName ? { nodeNames: [] } : { nodes: [] }), failed: {}, unresolvable: {}, error });
    const images = podImages(input.pod);
    const resolved = await this.opts.resolver.resolvePod(input.pod, images, { waitMs: this.opts.deadlineMs, signal });
    if (!resolved.ok) return fail(`pod ${podName(input.pod)}: ${resolved.error.message}`);
    const cands = await this.candidates(input, signal);
    if (!cands.ok) return fail(cands.error);
    const out = filterNodes(resolved.value, cands.nodes);
    const failed = { ...cands.missing, ...out.failed };
    if (byName) return { nodeNames: out.passed, failed, unresolvable: out.unresolvable, error: '' };
    const passed = new Set(out.passed);
    return { nodes: cands.nodes.filter((n) => passed.has(n.metadata?.name ?? '')), failed, unresolvable: out.unresolvable, error: '' };
  }

  /** HostPriorityList, 0-10 each; an error makes kube-scheduler ignore this extender's scores for the pod. */
  async prioritize(input: ExtenderInput, signal?: AbortSignal): Promise<{ ok: true; value: { host: string; score: number }[] } | { ok: false; error: string }> {
    const resolved = await this.opts.resolver.resolvePod(input.pod, podImages(input.pod), { waitMs: this.opts.deadlineMs, signal });
    if (!resolved.ok) return { ok: false, error: `pod ${podName(input.pod)}: ${resolved.error.message}` };
    const cands = await this.candidates(input, signal);
    if (!cands.ok) return { ok: false, error: cands.error };
    const scores = cands.nodes.map((n) => ({ host: n.metadata?.name ?? '', score: toExtenderPriority(scoreFit(nodeFit(resolved.value, n), this.opts.preferences)) }));
    for (const name of Object.keys(cands.missing)) scores.push({ host: name, score: 0 });
    return { ok: true, value: scores };
  }

  /** S3 + S4: writes the variant for the node and the records, then binds. Returns the error text ('' on success). */
  async bind(input: BindInput, signal?: AbortSignal): Promise<string> {
    const ref = { namespace: input.podNamespace, name: input.podName };
    const where = `pod ${input.podNamespace}/${input.podName}`;
    let pod: PodLike | undefined;
    let node: NodeLike | undefined;
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

    // The originals, if recorded (a migrated pod), are what the variant is chosen from.
    const images = podImages(pod);
    const recorded = parseSourceImages(pod.metadata?.annotations?.[SOURCE_IMAGES_ANNOTATION]);
    const originals = images.map((i) => ({ ...i, image: recorded?.[i.container] ?? i.image }));
    const resolved = await this.opts.resolver.resolvePod(pod, originals, { waitMs: this.opts.deadlineMs, signal });
    if (!resolved.ok) return `${where}: ${resolved.error.message}`;
    const fit = nodeFit(resolved.value, node);
    if (!fit.ok) return `${where}: node ${input.node}: ${fit.reason}`;

    const platform = formatPlatform(fit.platform);
    const variants: Record<string, string> = {};
    for (const v of fit.variants) variants[v.image.container] = v.variant.image;
    const patched = await this.opts.cluster.patchPod(ref, {
      images: variants,
      annotations: {
        ...(recorded ? {} : { [SOURCE_IMAGES_ANNOTATION]: sourceImagesValue(originals) }),
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
