/**
 * A controller's place in the cluster's change feed (ClusterReader.changes: a watch,
 * polled), so that a round looks at what changed since the last one, not at every pod:
 * the exec format controller and the migrator follow it. The first call, and any call
 * after the history was compacted away (HTTP 410 Gone), answers `relist`: the caller
 * lists everything again, as an informer does.
 */
import type { ClusterReader, ObjectRef } from '../ports/cluster.ts';

export type FollowedChanges =
  | { readonly relist: true }
  | {
      readonly relist: false;
      /** Pods changed (added, modified or deleted), each once, by `namespace/name`. */
      readonly pods: ReadonlyMap<string, ObjectRef>;
      /** Nodes changed, each once. */
      readonly nodes: ReadonlySet<string>;
    };

export class ChangeFollower {
  private since = -1;

  constructor(private readonly cluster: Pick<ClusterReader, 'version' | 'changes'>) {}

  /** What changed since the last call (repeats collapsed: only the latest state of an object matters). */
  async next(): Promise<FollowedChanges> {
    const feed = this.since < 0 ? undefined : await this.cluster.changes(this.since);
    if (!feed || feed.expired) {
      // The version before the list: a change during it is seen again next time, never missed.
      this.since = await this.cluster.version();
      return { relist: true };
    }
    const pods = new Map<string, ObjectRef>();
    const nodes = new Set<string>();
    for (const ev of feed.events) {
      if (ev.kind === 'Node') nodes.add(ev.name);
      else if (ev.kind === 'Pod') pods.set(`${ev.namespace ?? 'default'}/${ev.name}`, { namespace: ev.namespace ?? 'default', name: ev.name });
    }
    this.since = feed.version;
    return { relist: false, pods, nodes };
  }
}
