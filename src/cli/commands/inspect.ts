/**
 * `polyarch inspect IMAGE`: the platforms and per-platform digests of an image, from
 * the registry (index, single manifest, or per-architecture tags by convention).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadAuthFile, RegistryResolver } from '../../adapters/registry/index.ts';
import type { ImagePlatforms } from '../../core/image/types.ts';
import { formatPlatform } from '../../core/platform/platform.ts';
import type { RegistryCredentials } from '../../ports/image-resolver.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';

interface InspectOptions {
  output: OutputFormat;
  insecureRegistry: string[];
  authFile?: string;
  mirror: string[];
  timeout: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The JSON contract of `polyarch inspect --output json` (issue 2): variant omitted when empty. */
export function inspectJson(r: ImagePlatforms): object {
  return {
    reference: r.reference,
    source: r.source,
    platforms: r.platforms.map((p) => ({
      os: p.platform.os,
      architecture: p.platform.architecture,
      ...(p.platform.variant ? { variant: p.platform.variant } : {}),
      image: p.image,
    })),
    warnings: r.warnings,
  };
}

export function inspectText(r: ImagePlatforms): string {
  const table = formatTable(['PLATFORM', 'IMAGE'], r.platforms.map((p) => [formatPlatform(p.platform), p.image]));
  const warnings = r.warnings.map((w) => `warning: ${w}`);
  return [`${r.reference} (from ${r.source})`, table, ...warnings].join('\n');
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

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('the platforms and per-platform digests of an image, including variants found by tag convention')
    .argument('<image>', 'image reference, e.g. registry.example:5000/team/app:1.4')
    .addOption(outputOption())
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable; loopback registries always are)', collect, [])
    .option('--auth-file <path>', 'registry credentials in docker config.json format (default: ~/.docker/config.json if present)')
    .option('--mirror <registry=mirror>', 'ask MIRROR before REGISTRY (repeatable), e.g. docker.io=mirror.example:5000', collect, [])
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '10000')
    .action(async (image: string, opts: InspectOptions) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw usageError(`--timeout "${opts.timeout}": want a positive number of milliseconds`);
      const resolver = new RegistryResolver({
        credentials: await credentials(opts.authFile),
        insecureRegistries: opts.insecureRegistry,
        mirrors: mirrors(opts.mirror),
        timeoutMs,
      });
      try {
        const r = await resolver.resolve(image);
        if (!r.ok) throw r.error.kind === 'invalid-reference' ? usageError(r.error.message) : new CliError(r.error.message);
        if (opts.output === 'json') printJson(inspectJson(r.value));
        else process.stdout.write(`${inspectText(r.value)}\n`);
      } finally {
        await resolver.close();
      }
    });
}
