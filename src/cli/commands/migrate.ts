/**
 * `polyarch migrate --node NODE`: cordon and drain a node, moving every pod (PDBs
 * respected); `polyarch migrate POD --to PLATFORM`: move one bare pod to a node of that
 * platform. Both record Migration objects, so a `serve --migrator` replica finishes a
 * move this command started if it is interrupted.
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../adapters/system-clock.ts';
import { requestDrain } from '../../app/migrator.ts';
import { NodeMigrator } from '../../app/node-migrator.ts';
import { parsePlatform } from '../../core/platform/platform.ts';
import { parseDuration } from '../duration.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';
import { clusterFrom, defaultIdentity, kubeConfigFrom, makeLogger, type ClusterFlags } from './serve-runtime.ts';

interface MigrateFlags extends ClusterFlags {
  node?: string;
  to?: string;
  podNamespace: string;
  timeout: string;
  wait: boolean;
  output: OutputFormat;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerMigrate(program: Command): void {
  program
    .command('migrate [pod]')
    .option('--node <node>', 'cordon this node and move every pod off it')
    .option('--to <platform>', 'with POD: the platform to move it to, e.g. linux/arm64')
    .option('-n, --pod-namespace <ns>', 'namespace of POD', 'default')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--namespace <ns>', 'namespace of the Migration records', 'polyarch-system')
    .option('--timeout <d>', 'give up waiting after this long', '10m')
    .option('--no-wait', 'record and start the moves, do not wait for them')
    .option('--dry-run', 'decide and log, write nothing')
    .addOption(new Option('--insecure-registry <host>').hideHelp().argParser(collect).default([]))
    .option('--log-level <level>', 'debug, info, warn or error', 'warn')
    .addOption(outputOption())
    .action(async (pod: string | undefined, flags: MigrateFlags) => {
      if (!flags.node && !pod) throw usageError('migrate: give --node NODE, or POD --to PLATFORM');
      if (flags.node && pod) throw usageError('migrate: give either --node NODE or POD --to PLATFORM, not both');
      if (pod && !flags.to) throw usageError('migrate POD: --to PLATFORM is required');
      if (flags.to && !parsePlatform(flags.to).ok) throw usageError(`--to: ${(parsePlatform(flags.to) as { error: string }).error}`);
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined) throw usageError(`--timeout: "${flags.timeout}" is not a duration`);
      const log = makeLogger(flags.logLevel);
      const kc = kubeConfigFrom(flags);
      const { cluster } = clusterFrom(kc, flags, log, `polyarch-migrate-${defaultIdentity()}`);
      await cluster.start();
      try {
        const nodeName = flags.node ?? '';
        const migrator = new NodeMigrator({ cluster, clock: systemClock, log, onlyNodes: flags.node ? [nodeName] : [], lostGraceMs: 30_000, retryInitialMs: 1_000, retryMaxMs: 15_000 });
        let target: string[];
        if (flags.node) {
          const d = await requestDrain(cluster, cluster, nodeName);
          if (!d.ok) throw new CliError(`migrate --node ${nodeName}: ${d.message}`);
          target = (await cluster.listPods({ nodeName })).map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name ?? ''}`);
        } else {
          const ref = { namespace: flags.podNamespace, name: pod ?? '' };
          const p = await cluster.getPod(ref);
          if (!p) throw new CliError(`migrate: pod ${ref.namespace}/${ref.name} not found`);
          const owner = (p.metadata.ownerReferences ?? []).find((o) => o.controller);
          if (owner) {
            throw new CliError(`migrate: pod ${ref.namespace}/${ref.name} is owned by ${owner.kind} ${owner.name}; its replacement comes from the template: set a nodeSelector kubernetes.io/arch there, or drain its node`);
          }
          if (!(await migrator.start(p, 'manual', p.spec.nodeName ?? '', flags.to))) throw new CliError(`migrate: could not record the move of ${ref.namespace}/${ref.name} (one may be in progress)`);
          target = [`${ref.namespace}/${ref.name}`];
        }
        const deadline = systemClock.now() + timeoutMs;
        let rows: { pod: string; phase: string; message: string }[] = [];
        for (;;) {
          await migrator.runOnce();
          const records = (await cluster.listMigrations()).filter((m) => target.includes(m.spec.pod));
          rows = target.map((t) => {
            const r = records.filter((m) => m.spec.pod === t).at(-1);
            return { pod: t, phase: r?.status?.phase ?? (flags.node ? 'Skipped' : 'Pending'), message: r?.status?.message ?? (flags.node ? 'stays (DaemonSet, mirror or finished pod)' : '') };
          });
          const open = rows.filter((r) => r.phase !== 'Succeeded' && r.phase !== 'Failed' && r.phase !== 'Skipped');
          if (!flags.wait || open.length === 0 || flags.dryRun) break;
          if (systemClock.now() > deadline) throw new CliError(`migrate: ${open.length} move(s) still in progress after ${flags.timeout}: ${open.map((r) => `${r.pod} (${r.message})`).join('; ')}`);
          await systemClock.sleep(500);
        }
        if (flags.output === 'json') printJson({ node: flags.node ?? null, to: flags.to ?? null, moves: rows });
        else process.stdout.write(`${formatTable(['POD', 'PHASE', 'MESSAGE'], rows.map((r) => [r.pod, r.phase, r.message]))}\n`);
        if (rows.some((r) => r.phase === 'Failed')) throw new CliError('migrate: some moves failed');
      } finally {
        await cluster.stop();
      }
    });
}
