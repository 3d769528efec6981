import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { apiFailure } from './errors.ts';
import { requestOptions } from './request-options.ts';

export interface KubeConfigOptions {
  /** Path to a kubeconfig file; when absent: in-cluster config inside a pod, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfig?: string;
  readonly context?: string;
}

/**
 * The client configuration as kubectl and client-go pick it: an explicit file first,
 * then the service account of the pod we run in, then the default loading rules.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig) {
    kc.loadFromFile(options.kubeconfig);
  } else if (process.env['KUBERNETES_SERVICE_HOST'] && process.env['KUBERNETES_SERVICE_PORT']) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (options.context) kc.setCurrentContext(options.context);
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig: no current cluster (pass --kubeconfig or run in a pod)');
  return kc;
}

/**
 * One GET /version, bounded: whether the API server of the current context answers at
 * all, checked at start-up so a process pointed at an unreachable server stops with that
 * reason instead of retrying its informers forever (controller-runtime's manager fails
 * the same way on its first discovery call).
 */
export async function checkApiServer(kc: KubeConfig, timeoutMs = 10_000): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  try {
    const v = await kc.makeApiClient(VersionApi).getCode(requestOptions(timeoutMs) as never);
    return { ok: true, version: v.gitVersion };
  } catch (err) {
    const f = apiFailure(err);
    const cause = (err as { cause?: { message?: unknown } } | undefined)?.cause?.message;
    const detail = f.status > 0 ? `HTTP ${f.status}: ${f.message}` : `${f.reason}${typeof cause === 'string' && !f.message.includes(cause) ? `: ${cause}` : ''}: ${f.message}`;
    return { ok: false, error: `API server ${server} unreachable (${detail.split('\n')[0]})` };
  }
}
