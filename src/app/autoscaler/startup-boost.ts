/**
 * The autoscaler's half of the CPU startup boost (core/autoscale/startup-boost.ts): a pod
 * whose CPU the webhook boosted at creation gets its recorded CPU back, in place
 * (pods/resize), once it has been Ready for the policy's durationSeconds; then the record
 * is removed. A resize the API refuses is retried next round and never turned into an
 * eviction (as AEP-7862 says: no eviction loop).
 */
import { parseBoostAnnotation, STARTUP_BOOST_ANNOTATION, unboostDue } from '../../core/autoscale/startup-boost.ts';
import type { Pod } from '../../core/k8s/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ClusterReader, ClusterWriter } from '../../ports/cluster.ts';

export interface UnboostResult {
  readonly pod: string;
  readonly outcome: 'restored' | 'waiting' | 'failed';
  readonly reason: string;
}

/** When the pod's Ready condition last turned True (ms); undefined while not Ready. */
function readySince(pod: Pod): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready');
  if (c?.status !== 'True') return undefined;
  const t = Date.parse(String((c as { lastTransitionTime?: unknown }).lastTransitionTime ?? ''));
  return Number.isFinite(t) ? t : 0;
}

export async function takeBackStartupBoosts(o: { reader: Pick<ClusterReader, 'listPods'>; writer: Pick<ClusterWriter, 'resizePod' | 'patchPod' | 'recordEvent'>; clock: Clock }): Promise<UnboostResult[]> {
  const out: UnboostResult[] = [];
  for (const pod of await o.reader.listPods()) {
    const recorded = parseBoostAnnotation(pod.metadata.annotations?.[STARTUP_BOOST_ANNOTATION]);
    if (!recorded || !pod.spec.nodeName || pod.metadata.deletionTimestamp) continue;
    const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
    const key = `${ref.namespace}/${ref.name}`;
    const due = unboostDue(recorded, { readySinceMs: readySince(pod) }, o.clock.now());
    if (!due.due) {
      out.push({ pod: key, outcome: 'waiting', reason: due.reason });
      continue;
    }
    const resized = await o.writer.resizePod(ref, due.resize);
    if (!resized.ok) {
      out.push({ pod: key, outcome: 'failed', reason: `resize: ${resized.error.message}` });
      continue;
    }
    const cleared = await o.writer.patchPod(ref, { annotations: { [STARTUP_BOOST_ANNOTATION]: null } });
    const text = Object.entries(due.resize).map(([c, r]) => `${c} cpu ${r.requests.cpu}`).join(', ');
    await o.writer.recordEvent({ involved: { kind: 'Pod', namespace: ref.namespace, name: ref.name }, type: 'Normal', reason: 'StartupBoostRemoved', message: `Ready: CPU back in place to ${text}` });
    out.push({ pod: key, outcome: cleared.ok ? 'restored' : 'failed', reason: cleared.ok ? `restored ${text}` : `restored ${text}; the record could not be removed: ${cleared.error.message}` });
  }
  return out;
}
