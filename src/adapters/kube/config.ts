import { KubeConfig } from '@kubernetes/client-node';

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
