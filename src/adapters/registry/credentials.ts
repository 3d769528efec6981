/**
 * Registry credentials in Docker's config.json format, which is also the payload of a
 * Kubernetes `kubernetes.io/dockerconfigjson` pull secret (`.dockerconfigjson`), and
 * the older `.dockercfg` (the `auths` map on its own).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ParseResult } from '../../core/platform/platform.ts';
import type { RegistryCredentials } from '../../ports/image-resolver.ts';

const entry = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
  registrytoken: z.string().optional(),
});

const configSchema = z.object({ auths: z.record(z.string(), entry) });
const legacySchema = z.record(z.string(), entry);

export type Credential =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'identity-token'; readonly username: string; readonly token: string }
  | { readonly kind: 'registry-token'; readonly token: string };

/** Parses config.json / .dockerconfigjson text; the error names the field. */
export function parseDockerConfig(text: string, source = 'docker config'): ParseResult<RegistryCredentials> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (json && typeof json === 'object' && !Array.isArray(json) && !('auths' in json)) {
    // The old .dockercfg is the auths map itself; a config.json with only credsStore/credHelpers has no auths.
    const values = Object.values(json);
    if (values.length > 0 && values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v)) && !('credHelpers' in json)) {
      const legacy = legacySchema.safeParse(json);
      if (legacy.success) return { ok: true, value: { auths: legacy.data } };
    } else return { ok: true, value: { auths: {} } };
  }
  const full = configSchema.safeParse(json);
  if (full.success) return { ok: true, value: { auths: full.data.auths } };
  const issue = full.error.issues[0];
  return { ok: false, error: `${source}: ${issue ? `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}` : 'invalid'}` };
}

/** Reads an auth file (docker config.json format). */
export async function loadAuthFile(path: string): Promise<ParseResult<RegistryCredentials>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { ok: false, error: `auth file ${path}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}` };
  }
  return parseDockerConfig(text, `auth file ${path}`);
}

const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io'];

/** Normalises a config key ("https://reg.io/v2/", "reg.io") to a host[:port]. */
function keyHost(key: string): string {
  const k = key.trim().toLowerCase();
  if (!/^[a-z]+:\/\//.test(k)) return k.split('/')[0] ?? k;
  try {
    return new URL(k).host;
  } catch {
    return k;
  }
}

function toCredential(e: z.infer<typeof entry>): Credential | undefined {
  if (e.registrytoken) return { kind: 'registry-token', token: e.registrytoken };
  let username = e.username;
  let password = e.password;
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
  }
  if (e.identitytoken) return { kind: 'identity-token', username: username ?? '<token>', token: e.identitytoken };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return undefined;
}

/**
 * The credential for a registry host from a list of configs, first match wins (a pod's
 * pull secrets before the process's auth file). Docker Hub is known under several keys.
 */
export function findCredential(configs: readonly RegistryCredentials[], registry: string): Credential | undefined {
  const host = registry.toLowerCase();
  const hub = host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io';
  for (const config of configs) {
    for (const [key, value] of Object.entries(config.auths)) {
      const k = keyHost(key);
      const match = hub ? DOCKER_HUB_KEYS.some((h) => keyHost(h) === k) : k === host;
      if (!match) continue;
      const c = toCredential(value);
      if (c) return c;
    }
  }
  return undefined;
}
