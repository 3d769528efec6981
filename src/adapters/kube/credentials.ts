import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import type { RegistryCredentials } from '../../ports/image-resolver.ts';
import type { Logger } from '../../ports/logger.ts';
import { apiFailure } from './errors.ts';
import { requestOptions } from './request-options.ts';

/** One registry entry of a docker config.json / .dockercfg. */
const authEntry = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
  registrytoken: z.string().optional(),
});
const dockerConfigJson = z.object({ auths: z.record(z.string(), authEntry) });
const dockerCfg = z.record(z.string(), authEntry);

export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';

/**
 * Parses a pull secret's data (base64 values as the API returns them) into
 * credentials, or an error naming the secret and field. Both the current
 * `kubernetes.io/dockerconfigjson` and the legacy `kubernetes.io/dockercfg` forms.
 */
export function parsePullSecret(
  secret: { type?: string; data?: Record<string, string> | null; metadata?: { name?: string; namespace?: string } },
): { ok: true; value: RegistryCredentials } | { ok: false; error: string } {
  const id = `secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  const field = secret.type === SECRET_TYPE_DOCKERCFG ? '.dockercfg' : '.dockerconfigjson';
  if (secret.type !== SECRET_TYPE_DOCKER_CONFIG_JSON && secret.type !== SECRET_TYPE_DOCKERCFG) {
    return { ok: false, error: `${id}: type is "${secret.type ?? ''}", want ${SECRET_TYPE_DOCKER_CONFIG_JSON}` };
  }
  const raw = secret.data?.[field];
  if (!raw) return { ok: false, error: `${id}: data["${field}"] is missing` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    return { ok: false, error: `${id}: data["${field}"] is not base64 JSON` };
  }
  const parsed = field === '.dockercfg' ? dockerCfg.safeParse(json) : dockerConfigJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${id}: data["${field}"]${issue ? `.${issue.path.join('.')}: ${issue.message}` : ' is malformed'}` };
  }
  const auths = 'auths' in parsed.data && typeof parsed.data.auths === 'object' ? (parsed.data.auths as RegistryCredentials['auths']) : (parsed.data as RegistryCredentials['auths']);
  return { ok: true, value: { auths } };
}

interface PodLike {
  readonly metadata: { readonly namespace?: string; readonly name?: string };
  readonly spec: { readonly imagePullSecrets?: readonly { readonly name?: string }[] | null; readonly serviceAccountName?: string };
}

/**
 * Registry credentials for one pod, as the kubelet gathers them: the pod's
 * `imagePullSecrets` plus those of its service account, in that order. Secrets are
 * read on demand (RBAC: get secrets, get serviceaccounts) and kept for a short TTL so
 * a burst of pods from one Deployment costs one read.
 */
export class PullSecretSource {
  private readonly api: CoreV1Api;
  private readonly cache = new Map<string, { at: number; value: unknown }>();
  private readonly ttlMs: number;

  constructor(kc: KubeConfig, private readonly options: { clock: Clock; log: Logger; ttlMs?: number }) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.ttlMs = options.ttlMs ?? 30_000;
  }

  async forPod(pod: PodLike): Promise<RegistryCredentials[]> {
    const namespace = pod.metadata.namespace ?? 'default';
    const names: string[] = [];
    for (const ref of pod.spec.imagePullSecrets ?? []) if (ref.name) names.push(ref.name);
    const sa = await this.serviceAccountSecrets(namespace, pod.spec.serviceAccountName || 'default');
    for (const n of sa) if (!names.includes(n)) names.push(n);
    const out: RegistryCredentials[] = [];
    for (const name of names) {
      const creds = await this.secret(namespace, name);
      if (creds) out.push(creds);
    }
    return out;
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.options.clock.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as T;
    const value = await load();
    this.cache.set(key, { at: now, value });
    return value;
  }

  private serviceAccountSecrets(namespace: string, name: string): Promise<string[]> {
    return this.cached(`sa/${namespace}/${name}`, async () => {
      try {
        const sa = await this.api.readNamespacedServiceAccount({ name, namespace }, requestOptions() as never);
        return (sa.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== '');
      } catch (err) {
        const f = apiFailure(err);
        if (f.status !== 404) this.options.log.warn({ serviceAccount: `${namespace}/${name}`, status: f.status, error: f.message }, 'pull secrets: cannot read service account');
        return [];
      }
    });
  }

  private secret(namespace: string, name: string): Promise<RegistryCredentials | undefined> {
    return this.cached(`secret/${namespace}/${name}`, async () => {
      try {
        const s = await this.api.readNamespacedSecret({ name, namespace }, requestOptions() as never);
        const parsed = parsePullSecret({ type: s.type, data: s.data ?? null, metadata: { name, namespace } });
        if (!parsed.ok) {
          this.options.log.warn({ secret: `${namespace}/${name}` }, parsed.error);
          return undefined;
        }
        return parsed.value;
      } catch (err) {
        const f = apiFailure(err);
        // The kubelet ignores a missing pull secret and pulls anonymously; so do we.
        this.options.log.warn({ secret: `${namespace}/${name}`, status: f.status, error: f.message }, 'pull secrets: cannot read secret');
        return undefined;
      }
    });
  }
}
