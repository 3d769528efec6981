/**
 * PodJsonPatcher on the API server: gated pods from the pod informer's cache (no API
 * call per pass), RFC 6902 patches through @kubernetes/client-node.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { JsonPatchOp } from '../../core/admission/json-patch.ts';
import type { Pod } from '../../core/k8s/types.ts';
import type { ClusterReader, ObjectRef, WriteResult } from '../../ports/cluster.ts';
import type { PodJsonPatcher } from '../../ports/pod-json-patch.ts';
import { apiFailure } from './errors.ts';

export class KubePodJsonPatcher implements PodJsonPatcher {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig, private readonly reader: Pick<ClusterReader, 'listPods'>) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async listGatedPods(gate: string): Promise<WriteResult<readonly Pod[]>> {
    try {
      const pending = await this.reader.listPods({ nodeName: '' });
      const gated = pending.filter((p) => ((p.spec as { schedulingGates?: readonly { name: string }[] | null }).schedulingGates ?? []).some((g) => g.name === gate));
      return { ok: true, value: gated };
    } catch (err) {
      return { ok: false, error: { kind: 'unavailable', message: err instanceof Error ? err.message : String(err) } };
    }
  }

  async jsonPatchPod(ref: ObjectRef, ops: readonly JsonPatchOp[]): Promise<WriteResult<Pod>> {
    const namespace = ref.namespace ?? 'default';
    try {
      const pod = await this.core.patchNamespacedPod({ name: ref.name, namespace, body: ops }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
      return { ok: true, value: pod as unknown as Pod };
    } catch (err) {
      const f = apiFailure(err);
      // A failed `test` operation is 422 Invalid on kube-apiserver ("testing value ... failed"): the pod
      // changed under us. Any other 422 is the API server refusing the change itself (validation).
      const testFailed = f.status === 422 && /testing value/.test(f.message);
      const kind = f.status === 404 ? 'not-found' : f.status === 409 || testFailed ? 'conflict' : f.status === 403 ? 'forbidden' : f.status === 0 || f.status >= 500 || f.status === 429 ? 'unavailable' : 'invalid';
      return { ok: false, error: { kind, message: `patch pod ${namespace}/${ref.name}: ${f.message}` } };
    }
  }
}
