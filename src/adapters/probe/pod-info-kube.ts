/**
 * The pods of one node from the Kubernetes API: a list with fieldSelector spec.nodeName,
 * served from the API server's watch cache (resourceVersion=0), refreshed at most every
 * `refreshMs` (the probe samples every few seconds; readiness changes are needed to the
 * warm-up's precision, not the sample's).
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.ts';
import type { PodInfoResult, PodInfoSource } from '../../ports/pod-info.ts';
import { podInfoFromPodList } from './pod-list.ts';

export interface KubePodInfoOptions {
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly refreshMs?: number;
}

export function kubePodInfoSource(options: KubePodInfoOptions): PodInfoSource {
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  const refreshMs = options.refreshMs ?? 15_000;
  const source = `kubernetes API ${options.kubeConfig.getCurrentCluster()?.server ?? ''} (pods on node ${options.nodeName})`;
  let last: { at: number; result: PodInfoResult } | undefined;
  return {
    description: source,
    async list() {
      const now = options.clock.now();
      if (last && last.result.ok && now - last.at < refreshMs) return last.result;
      let result: PodInfoResult;
      try {
        const list = await api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${options.nodeName}`, resourceVersion: '0' });
        // The client turns timestamps into Date objects; the mapper reads the API's JSON form.
        result = podInfoFromPodList(JSON.parse(JSON.stringify(list)), { source, nodeName: options.nodeName });
      } catch (err) {
        const code = (err as { code?: number }).code;
        const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
        result = { ok: false, error: { kind: typeof code === 'number' ? 'other' : 'unreachable', message: `${source}: ${code ? `HTTP ${code}: ` : ''}${message}` } };
      }
      last = { at: now, result };
      return result;
    },
  };
}
