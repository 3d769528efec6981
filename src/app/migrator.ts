/**
 * The migrator's loop, against the ports only (the same code runs on the simulator and
 * on a cluster): find nodes that are lost or being drained, and move their pods as
 * core/migration plans: evict (a PodDisruptionBudget refusal is retried next round),
 * or delete once the node has been unreachable past the toleration; re-create pods no
 * controller will re-create, from their recorded source images, for the scheduler to
 * place on any platform.
 */
import type { Clock } from '../ports/clock.ts';
import type { ClusterReader, ClusterWriter } from '../ports/cluster.ts';
import type { Node, Pod, Taint } from '../core/k8s/types.ts';
import { DRAIN_TAINT, nodeTrouble, planMoves, replacementPod, type MigrationOptions, type Move } from '../core/migration/plan.ts';

export interface MoveOutcome {
  readonly move: Move;
  /** The pod as it was (for the record: its platform and owner). */
  readonly pod: Pod;
  readonly result: 'done' | 'refused' | 'failed' | 'waiting';
  readonly message?: string;
  /** Name of the pod created in its place by the migrator (bare pods). */
  readonly recreated?: string;
}

export interface MigrationRound {
  readonly nodes: number;
  readonly outcomes: readonly MoveOutcome[];
}

/** Starts a drain the way `polyarch migrate --node` does: cordon, then mark for the migrator. */
export async function requestDrain(reader: ClusterReader, writer: ClusterWriter, nodeName: string): Promise<{ ok: boolean; message: string }> {
  const node = await reader.getNode(nodeName);
  if (!node) return { ok: false, message: `node ${nodeName} not found` };
  const c = await writer.cordonNode(nodeName, true);
  if (!c.ok) return { ok: false, message: c.error.message };
  const fresh = (await reader.getNode(nodeName)) ?? node;
  const taints: Taint[] = [...(fresh.spec?.taints ?? []).filter((t) => t.key !== DRAIN_TAINT), { key: DRAIN_TAINT, value: 'true', effect: 'NoSchedule' }];
  const t = await writer.setNodeTaints(nodeName, taints);
  if (!t.ok) return { ok: false, message: t.error.message };
  await writer.recordEvent({ involved: { kind: 'Node', name: nodeName }, type: 'Normal', reason: 'Draining', message: `node ${nodeName} cordoned; its pods will be moved` });
  return { ok: true, message: `draining ${nodeName}` };
}

/** Ends a drain: uncordon and drop the mark. */
export async function endDrain(reader: ClusterReader, writer: ClusterWriter, nodeName: string): Promise<void> {
  const node = await reader.getNode(nodeName);
  if (!node) return;
  await writer.setNodeTaints(nodeName, (node.spec?.taints ?? []).filter((t) => t.key !== DRAIN_TAINT));
  await writer.cordonNode(nodeName, false);
}

export class Migrator {
  constructor(
    private readonly reader: ClusterReader,
    private readonly writer: ClusterWriter,
    private readonly clock: Clock,
    private readonly opts: MigrationOptions,
  ) {}

  async runOnce(): Promise<MigrationRound> {
    const now = this.clock.now();
    const nodes = await this.reader.listNodes();
    const troubled: { node: Node; trouble: NonNullable<ReturnType<typeof nodeTrouble>> }[] = [];
    for (const node of nodes) {
      const t = nodeTrouble(node, now);
      if (t) troubled.push({ node, trouble: t });
    }
    const outcomes: MoveOutcome[] = [];
    for (const { node, trouble } of troubled) {
      const name = node.metadata.name ?? '';
      const pods = await this.reader.listPods({ nodeName: name });
      if (pods.length === 0) continue;
      const byKey = new Map(pods.map((p) => [`${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`, p]));
      for (const move of planMoves(node, trouble, pods, now, this.opts)) {
        const pod = byKey.get(move.pod)!;
        outcomes.push(await this.apply(move, pod));
      }
    }
    return { nodes: troubled.length, outcomes };
  }

  private async apply(move: Move, pod: Pod): Promise<MoveOutcome> {
    if (move.action === 'wait') return { move, pod, result: 'waiting', message: move.reason };
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
    const involved = { kind: 'Pod' as const, ...ref };
    // The replacement is built before the pod goes, so a bad annotation stops nothing half-way.
    const replacement = move.recreate ? replacementPod(pod, move.node) : undefined;
    if (replacement && !replacement.ok) {
      await this.writer.recordEvent({ involved, type: 'Warning', reason: 'MigrationFailed', message: replacement.error });
      return { move, pod, result: 'failed', message: replacement.error };
    }
    if (move.action === 'evict') {
      const r = await this.writer.evictPod(ref);
      if (!r.ok) {
        if (r.refused === 'not-found') return { move, pod, result: 'done', message: r.message };
        return { move, pod, result: 'refused', message: r.message };
      }
    } else {
      const r = await this.writer.deletePod(ref);
      if (!r.ok && r.error.kind !== 'not-found') return { move, pod, result: 'failed', message: r.error.message };
    }
    let recreated: string | undefined;
    if (replacement?.ok) {
      const c = await this.writer.createPod(replacement.value);
      if (!c.ok) {
        await this.writer.recordEvent({ involved, type: 'Warning', reason: 'MigrationFailed', message: c.error.message });
        return { move, pod, result: 'failed', message: c.error.message };
      }
      recreated = c.value.metadata.name;
    }
    await this.writer.recordEvent({ involved, type: 'Normal', reason: 'Migrating', message: `${move.reason}: pod removed from ${move.node}${recreated ? ', re-created from its source images' : ''}` });
    return recreated === undefined ? { move, pod, result: 'done' } : { move, pod, result: 'done', recreated };
  }
}
