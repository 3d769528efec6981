/**
 * What `polyarch serve` and `polyarch migrate` share: the client configuration, the
 * logger, the image resolver, and the cluster adapter, built from flags.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { KubeCluster } from '../../adapters/kube/cluster.ts';
import { loadKubeConfig } from '../../adapters/kube/config.ts';
import { PullSecretSource } from '../../adapters/kube/credentials.ts';
import { loadImageCatalog } from '../../adapters/registry/catalog.ts';
import { loadAuthFile, RegistrySource } from '../../adapters/registry/index.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { ImageLookupService } from '../../app/image-lookup.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ImageSource, RegistryCredentials } from '../../ports/image-resolver.ts';
import type { Logger } from '../../ports/logger.ts';
import { CliError } from '../errors.ts';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  dryRun?: boolean;
  images?: string;
  authFile?: string;
  insecureRegistry: string[];
  logLevel: string;
}

export function makeLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  // JSON lines on stdout, one object per event: what log collectors in a cluster expect.
  return pino({ level, base: { component: 'polyarch', ...bindings }, timestamp: pino.stdTimeFunctions.isoTime }) as unknown as Logger;
}

export function defaultIdentity(): string {
  return process.env['POD_NAME'] || `${hostname()}_${randomUUID().slice(0, 8)}`;
}

export function kubeConfigFrom(flags: ClusterFlags): KubeConfig {
  try {
    return loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
  } catch (err) {
    throw new CliError(`kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The image lookup service on the --images catalog or the registry, reading pods' pull secrets from `secrets`. */
export async function resolverFrom(flags: ClusterFlags, secrets?: PullSecretSource): Promise<ImageLookupService> {
  let source: ImageSource;
  if (flags.images) {
    const c = await loadImageCatalog(flags.images);
    if (!c.ok) throw new CliError(`--images: ${c.error}`);
    source = c.value;
  } else {
    const credentials: RegistryCredentials[] = [];
    if (flags.authFile) {
      const a = await loadAuthFile(flags.authFile);
      if (!a.ok) throw new CliError(`--auth-file: ${a.error}`);
      credentials.push(a.value);
    }
    source = new RegistrySource({ clock: systemClock, credentials, insecureRegistries: flags.insecureRegistry });
  }
  return new ImageLookupService({
    source,
    clock: systemClock,
    ...(secrets ? { pullSecrets: (pod) => secrets.forPod({ metadata: pod.metadata ?? {}, spec: pod.spec ?? {} }) } : {}),
  });
}

export function clusterFrom(kc: KubeConfig, flags: ClusterFlags, log: Logger, instance: string): { cluster: KubeCluster; secrets: PullSecretSource } {
  const cluster = new KubeCluster({ kc, clock: systemClock, log, dryRun: flags.dryRun ?? false, namespace: flags.namespace, component: 'polyarch', instance });
  const secrets = new PullSecretSource(kc, { clock: systemClock, log });
  return { cluster, secrets };
}
