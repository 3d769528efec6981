/** A kubeconfig file for the fake server, for kubectl (--kubeconfig) and KubeConfig.loadFromFile. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const kubeconfigYaml = (server: string, namespace = 'default'): string =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node 1.x refuses plain http unless TLS verification is off for the cluster.
    clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake', user: { token: 'fake-token' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
    'current-context': 'fake',
    preferences: {},
  });

/** Writes the kubeconfig to `path` (or a new temporary directory) and returns the path. */
export const writeKubeconfig = async (server: string, path?: string, namespace = 'default'): Promise<string> => {
  const file = path ?? join(await mkdtemp(join(tmpdir(), 'polyarch-kubeconfig-')), 'config');
  await writeFile(file, kubeconfigYaml(server, namespace), { mode: 0o600 });
  return file;
};
