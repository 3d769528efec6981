/**
 * `polyarch exec-format list` / `polyarch exec-format forget KEY... | --image IMAGE | --all`:
 * the record of image digests seen not to run on a platform (exec format errors; the
 * ConfigMap `polyarch-exec-format` of polyarch's namespace, docs/exec-format.md), read and
 * pruned without editing the ConfigMap by hand. Every `serve` process re-reads the record
 * every --exec-format-interval, so a forgotten entry is offered again by the scheduler, the
 * extender and the webhook within that interval, and a pod held because of it is looked at
 * again by the exec format controller.
 */
import type { Command } from 'commander';
import { badPlatformData, type BadPlatform } from '../../core/exec-format/bad-platforms.ts';
import { formatReference, parseReference } from '../../core/image/reference.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';
import { clusterFrom, defaultIdentity, kubeConfigFrom, makeLogger, type ClusterFlags } from './serve-runtime.ts';

interface ExecFormatFlags extends ClusterFlags {
  image?: string;
  all?: boolean;
  output: OutputFormat;
}

const withCluster = (cmd: Command): Command =>
  cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--namespace <ns>', 'polyarch\'s namespace (where the ConfigMap polyarch-exec-format lives)', 'polyarch-system')
    .option('--log-level <level>', 'debug, info, warn or error', 'warn')
    .addOption(outputOption());

const normalise = (ref: string): string => {
  const r = parseReference(ref);
  return r.ok ? formatReference(r.value) : ref;
};

const row = (e: BadPlatform): BadPlatform & { key: string } => ({ key: badPlatformData(e)[0], ...e });

export function registerExecFormat(program: Command): void {
  const cmd = program.command('exec-format');
  withCluster(cmd.command('list').description('the (digest, platform) pairs recorded as not running, with where they were seen'))
    .action(async (flags: ExecFormatFlags) => {
      const { cluster } = clusterFrom(kubeConfigFrom(flags), flags, makeLogger(flags.logLevel), `polyarch-exec-format-${defaultIdentity()}`);
      let r: Awaited<ReturnType<typeof cluster.listBadPlatforms>>;
      try {
        r = await cluster.listBadPlatforms();
      } catch (err) {
        throw new CliError(`exec-format list: ${err instanceof Error ? err.message : String(err)}`);
      }
      const rows = r.entries.map(row).sort((a, b) => (a.key < b.key ? -1 : 1));
      if (flags.output === 'json') printJson({ entries: rows, invalid: r.errors });
      else {
        process.stdout.write(rows.length === 0 ? 'no entries\n' : `${formatTable(['KEY', 'IMAGE', 'PLATFORM', 'NODE', 'POD', 'RECORDED'], rows.map((e) => [e.key, e.image, e.platform, e.node, e.pod, e.at]))}\n`);
        for (const e of r.errors) process.stdout.write(`invalid entry (ignored by polyarch): ${e}\n`);
      }
    });
  withCluster(cmd.command('forget [key...]').description('remove entries: by KEY (as `list` prints it), every entry of --image, or --all'))
    .option('--image <ref>', 'every entry recorded for this architecture-neutral image')
    .option('--all', 'every entry')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .action(async (keys: string[], flags: ExecFormatFlags) => {
      const ways = [keys.length > 0, flags.image !== undefined, flags.all === true].filter(Boolean).length;
      if (ways !== 1) throw usageError('exec-format forget: give KEY..., or --image IMAGE, or --all (one of them)');
      const { cluster } = clusterFrom(kubeConfigFrom(flags), flags, makeLogger(flags.logLevel), `polyarch-exec-format-${defaultIdentity()}`);
      let entries: readonly BadPlatform[];
      try {
        entries = (await cluster.listBadPlatforms()).entries;
      } catch (err) {
        throw new CliError(`exec-format forget: ${err instanceof Error ? err.message : String(err)}`);
      }
      const known = new Map(entries.map((e) => [badPlatformData(e)[0], e]));
      const unknown = keys.filter((k) => !known.has(k));
      if (unknown.length > 0) throw new CliError(`exec-format forget: no entry ${unknown.join(', ')} (see polyarch exec-format list)`);
      const image = flags.image === undefined ? undefined : normalise(flags.image);
      const chosen = flags.all ? [...known.keys()] : image !== undefined ? [...known].filter(([, e]) => normalise(e.image) === image).map(([k]) => k) : keys;
      if (image !== undefined && chosen.length === 0) throw new CliError(`exec-format forget: no entry for image ${flags.image ?? ''}`);
      if (!flags.dryRun) {
        const w = await cluster.forgetBadPlatforms(chosen);
        if (!w.ok) throw new CliError(`exec-format forget: ${w.error.message}`);
      }
      if (flags.output === 'json') printJson({ forgotten: chosen, dryRun: flags.dryRun ?? false });
      else process.stdout.write(`${flags.dryRun ? 'would forget' : 'forgotten'}: ${chosen.join(', ') || 'nothing'}\n`);
    });
}
