/**
 * The registry flags shared by every command that looks images up (inspect, schedule,
 * simulate with a registry): --insecure-registry, --auth-file, --mirror, --timeout.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadAuthFile, RegistryResolver } from '../adapters/registry/index.ts';
import type { RegistryCredentials } from '../ports/image-resolver.ts';
import { CliError, usageError } from './errors.ts';

export interface RegistryFlags {
  readonly insecureRegistry: string[];
  readonly authFile?: string;
  readonly mirror: string[];
  readonly timeout: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable; loopback registries always are)', collect, [])
    .option('--auth-file <path>', 'registry credentials in docker config.json format (default: ~/.docker/config.json if present)')
    .option('--mirror <registry=mirror>', 'ask MIRROR before REGISTRY (repeatable), e.g. docker.io=mirror.example:5000', collect, [])
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '10000');
}

/** --auth-file, else Docker's own config ($DOCKER_CONFIG/config.json or ~/.docker/config.json) when present. */
async function credentials(authFile: string | undefined): Promise<RegistryCredentials[]> {
  const path = authFile ?? join(process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json');
  if (authFile === undefined && !existsSync(path)) return [];
  const r = await loadAuthFile(path);
  if (!r.ok) throw new CliError(r.error);
  return [r.value];
}

function mirrors(specs: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of specs) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(s);
    if (!m?.[1] || !m[2]) throw usageError(`--mirror "${s}": want REGISTRY=MIRROR, e.g. docker.io=mirror.example:5000`);
    (out[m[1]] ??= []).push(m[2]);
  }
  return out;
}

/** A registry client configured from the flags; the caller closes it. */
export async function registryResolverFromFlags(flags: RegistryFlags): Promise<RegistryResolver> {
  const timeoutMs = Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw usageError(`--timeout "${flags.timeout}": want a positive number of milliseconds`);
  return new RegistryResolver({
    credentials: await credentials(flags.authFile),
    insecureRegistries: flags.insecureRegistry,
    mirrors: mirrors(flags.mirror),
    timeoutMs,
  });
}
