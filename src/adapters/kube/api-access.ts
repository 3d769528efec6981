/**
 * How to reach the Kubernetes API for a plain HTTP request, without loading the generated
 * client: the node probe, one per node, lists its pods and nothing else, and the client
 * costs it some 75 MiB of resident memory (`npm run bench startup`). In a pod, the pod's
 * service account (client-go's rest.InClusterConfig: $KUBERNETES_SERVICE_HOST and _PORT,
 * the token and CA re-read for every request, as bound tokens rotate); elsewhere a
 * KubeConfig, whose loading rules the caller applies (adapters/kube/config.ts).
 */
import { readFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ApiAccess {
  /** The API server's base URL, e.g. https://10.96.0.1:443. */
  readonly server: string;
  /** TLS settings and headers (authorization) for one request, fresh each time. */
  requestOptions(): Promise<RequestOptions>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The pod's own service account, or undefined outside a pod (no $KUBERNETES_SERVICE_HOST/_PORT).
 * $POLYARCH_SERVICE_ACCOUNT_DIR moves the token and CA from where kubelet mounts them (tests, benches).
 */
export function serviceAccountAccess(env: NodeJS.ProcessEnv = process.env): ApiAccess | undefined {
  const dir = env['POLYARCH_SERVICE_ACCOUNT_DIR'] || SERVICE_ACCOUNT_DIR;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) return undefined;
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async requestOptions() {
      const [token, ca] = await Promise.all([readFile(join(dir, 'token'), 'utf8'), readFile(join(dir, 'ca.crt'))]);
      return { ca, headers: { authorization: `Bearer ${token.trim()}` } };
    },
  };
}

/** A loaded KubeConfig's current cluster and user (certificates, tokens, exec plugins, proxies). */
export function kubeConfigAccess(kc: KubeConfig): ApiAccess {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig: no current cluster (pass --kubeconfig or run in a pod)');
  return {
    server,
    async requestOptions() {
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      return options;
    },
  };
}
