/**
 * `polyarch inspect IMAGE`: the platforms and per-platform digests of an image, from
 * the registry (index, single manifest, or per-architecture tags by convention).
 */
import type { Command } from 'commander';
import type { ImagePlatforms, PlatformImage } from '../../core/image/types.ts';
import { formatPlatform, type Platform } from '../../core/platform/platform.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';
import { addRegistryOptions, imageLookupFromFlags, type RegistryFlags } from '../registry-flags.ts';

interface InspectOptions extends RegistryFlags {
  output: OutputFormat;
}

/** The platform as the registry stated it: the variant it wrote, not the default filled in (arm64 without a variant stays so). */
function statedPlatform(p: PlatformImage): Platform {
  return p.declaredVariant === undefined ? p.platform : { ...p.platform, variant: p.declaredVariant };
}

/** The JSON contract of `polyarch inspect --output json` (issue 2): variant as the registry stated it, omitted when none. */
export function inspectJson(r: ImagePlatforms): object {
  return {
    reference: r.reference,
    source: r.source,
    platforms: r.platforms.map((p) => {
      const stated = statedPlatform(p);
      return { os: stated.os, architecture: stated.architecture, ...(stated.variant ? { variant: stated.variant } : {}), image: p.image };
    }),
    warnings: r.warnings,
  };
}

export function inspectText(r: ImagePlatforms): string {
  const table = formatTable(['PLATFORM', 'IMAGE'], r.platforms.map((p) => [formatPlatform(statedPlatform(p)), p.image]));
  const warnings = r.warnings.map((w) => `warning: ${w}`);
  return [`${r.reference} (from ${r.source})`, table, ...warnings].join('\n');
}

export function registerInspect(program: Command): void {
  addRegistryOptions(program
    .command('inspect')
    .argument('<image>', 'image reference, e.g. registry.example:5000/team/app:1.4')
    .addOption(outputOption()))
    .action(async (image: string, opts: InspectOptions) => {
      const resolver = await imageLookupFromFlags(opts);
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
