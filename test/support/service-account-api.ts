/**
 * What a pod sees of the Kubernetes API: a service account directory (token, ca.crt) and an
 * HTTPS server on loopback, with a certificate for 127.0.0.1 signed by that CA, answering
 * every request with a PodList of `items`. `env` is what kubelet would set
 * ($KUBERNETES_SERVICE_HOST/_PORT), with $POLYARCH_SERVICE_ACCOUNT_DIR pointing at `dir`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeCertificates } from '../../src/adapters/tls/certificates.ts';

export interface ServiceAccountApi {
  readonly env: Record<string, string>;
  readonly server: string;
  /** `PATH?QUERY AUTHORIZATION` of each request, in order. */
  readonly requests: string[];
  /** Replaces the token, as kubelet rotates a bound token. */
  setToken(token: string): void;
  close(): Promise<void>;
}

export async function startServiceAccountApi(dir: string, token: string, items: readonly unknown[] = []): Promise<ServiceAccountApi> {
  const certs = makeCertificates({ service: 'kubernetes', namespace: 'default', validityDays: 1, ipAddresses: ['127.0.0.1'], now: new Date() });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.crt'), certs.caCertPem);
  const setToken = (t: string): void => writeFileSync(join(dir, 'token'), `${t}\n`);
  setToken(token);
  const requests: string[] = [];
  const server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    requests.push(`${req.url} ${req.headers.authorization}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = String((server.address() as AddressInfo).port);
  return {
    env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port, POLYARCH_SERVICE_ACCOUNT_DIR: dir },
    server: `https://127.0.0.1:${port}`,
    requests,
    setToken,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
