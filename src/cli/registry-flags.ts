/**
 * The registry flags shared by every command that looks images up (inspect, schedule,
 * simulate with a registry): --insecure-registry, --auth-file, --mirror, --timeout.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadAuthFile, RegistrySource } from '../adapters/registry/index.ts';
import { systemClock } from '../adapters/system-clock.ts';
import { ImageLookupService } from '../app/image-lookup.ts';
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
    .option('--timeout <ms>', 'deadline of each image lookup in milliseconds (every request, retry and wait included)', '10000');
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

/** The image lookup service on the registry, configured from the flags; the caller closes it. */
export async function imageLookupFromFlags(flags: RegistryFlags): Promise<ImageLookupService> {
  const timeoutMs = Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw usageError(`--timeout "${flags.timeout}": want a positive number of milliseconds`);
  const source = new RegistrySource({
    clock: systemClock,
    credentials: await credentials(flags.authFile),
    insecureRegistries: flags.insecureRegistry,
    mirrors: mirrors(flags.mirror),
    timeoutMs,
  });
  // --timeout bounds the whole lookup, however slowly a registry answers (and each request within it).
  return new ImageLookupService({ source, clock: systemClock, deadlineMs: timeoutMs });
}
