/**
 * `polyarch migrate --node NODE`: cordon and drain a node, moving every pod (PDBs
 * respected); `--node NODE --undo`: end a drain (uncordon, drain mark removed; moves not
 * yet made are cancelled); `polyarch migrate POD --to PLATFORM`: move one bare pod to a
 * node of that platform, refused before anything is touched when no node or no image
 * variant can take it. Moves are Migration records, so a `serve --migrator` replica
 * finishes a move this command started if it is interrupted.
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../adapters/system-clock.ts';
import { checkManualMove, Migrator, requestDrain, undoDrain } from '../../app/migrator.ts';
import { podKey } from '../../core/k8s/types.ts';
import { migrationName } from '../../core/migration/record.ts';
import { parsePlatform } from '../../core/platform/platform.ts';
import { parseDuration } from '../duration.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';
import { clusterFrom, defaultIdentity, kubeConfigFrom, makeLogger, resolverFrom, type ClusterFlags } from './serve-runtime.ts';

interface MigrateFlags extends ClusterFlags {
  node?: string;
  to?: string;
  undo?: boolean;
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
    .option('--undo', 'with --node: end the drain (uncordon, remove the drain mark); moves not yet made are cancelled')
    .option('--to <platform>', 'with POD: the platform to move it to, e.g. linux/arm64')
    .option('-n, --pod-namespace <ns>', 'namespace of POD', 'default')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--namespace <ns>', 'namespace of the Migration records', 'polyarch-system')
    .option('--timeout <d>', 'give up waiting after this long', '10m')
    .option('--no-wait', 'record and start the moves, do not wait for them')
    .option('--dry-run', 'decide and log, write nothing')
    .option('--images <file>', 'offline image catalog (polyarch inspect -o json output) instead of the registries, for the check of POD --to')
    .option('--auth-file <file>', 'registry credentials (docker config.json)')
    .addOption(new Option('--insecure-registry <host>', 'registry spoken to over plain HTTP (repeatable)').argParser(collect).default([]))
    .option('--log-level <level>', 'debug, info, warn or error', 'warn')
    .addOption(outputOption())
    .action(async (pod: string | undefined, flags: MigrateFlags) => {
      if (!flags.node && !pod) throw usageError('migrate: give --node NODE, or POD --to PLATFORM');
      if (flags.node && pod) throw usageError('migrate: give either --node NODE or POD --to PLATFORM, not both');
      if (pod && !flags.to) throw usageError('migrate POD: --to PLATFORM is required');
      if (flags.undo && !flags.node) throw usageError('migrate: --undo goes with --node NODE');
      if (flags.to && !parsePlatform(flags.to).ok) throw usageError(`--to: ${(parsePlatform(flags.to) as { error: string }).error}`);
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined) throw usageError(`--timeout: "${flags.timeout}" is not a duration`);
      const log = makeLogger(flags.logLevel);
      const kc = kubeConfigFrom(flags);
      const { cluster, secrets } = clusterFrom(kc, flags, log, `polyarch-migrate-${defaultIdentity()}`);
      await cluster.start();
      try {
        const nodeName = flags.node ?? '';
        if (flags.undo) {
          const u = await undoDrain(cluster, cluster, nodeName);
          if (!u.ok) throw new CliError(`migrate --node ${nodeName} --undo: ${u.message}`);
          if (flags.output === 'json') printJson({ node: nodeName, undone: true, message: u.message });
          else process.stdout.write(`${u.message}\n`);
          return;
        }
        const migrator = new Migrator({ cluster, clock: systemClock, log, onlyNodes: flags.node ? [nodeName] : [], retryInitialMs: 1_000, retryMaxMs: 15_000 });
        /** Each pod to watch, and the name of its Migration record (one per pod incarnation). */
        let target: { pod: string; record: string }[];
        if (flags.node) {
          const d = await requestDrain(cluster, cluster, nodeName);
          if (!d.ok) throw new CliError(`migrate --node ${nodeName}: ${d.message}`);
          target = (await cluster.listPods({ nodeName })).map((p) => ({ pod: podKey(p), record: migrationName(p) }));
        } else {
          const ref = { namespace: flags.podNamespace, name: pod ?? '' };
          const p = await cluster.getPod(ref);
          if (!p) throw new CliError(`migrate: pod ${ref.namespace}/${ref.name} not found`);
          const owner = (p.metadata.ownerReferences ?? []).find((o) => o.controller);
          if (owner) {
            throw new CliError(`migrate: pod ${ref.namespace}/${ref.name} is owned by ${owner.kind} ${owner.name}; its replacement comes from the template: set a nodeSelector kubernetes.io/arch there, or drain its node`);
          }
          const to = flags.to ?? '';
          // Nothing is touched unless the pod, moved, can run somewhere.
          const images = await resolverFrom(flags, secrets);
          const check = await checkManualMove(cluster, images, p, to).finally(() => images.close());
          if (!check.ok) throw new CliError(`migrate: ${check.reason}`);
          if (!(await migrator.start(p, p.spec.nodeName ?? '', { reason: 'manual', toPlatform: to }))) throw new CliError(`migrate: could not record the move of ${ref.namespace}/${ref.name} (one may be in progress)`);
          target = [{ pod: podKey(p), record: migrationName(p) }];
        }
        const deadline = systemClock.now() + timeoutMs;
        let rows: { pod: string; phase: string; message: string }[] = [];
        for (;;) {
          await migrator.runOnce();
          const records = new Map((await cluster.listMigrations()).map((m) => [m.name, m]));
          rows = target.map((t) => {
            const r = records.get(t.record);
            return { pod: t.pod, phase: r?.status?.phase ?? (flags.node ? 'Skipped' : 'Pending'), message: r?.status?.message ?? (flags.node ? 'stays (DaemonSet, mirror or finished pod)' : '') };
          });
          const open = rows.filter((r) => r.phase !== 'Succeeded' && r.phase !== 'Failed' && r.phase !== 'Blocked' && r.phase !== 'Skipped');
          if (!flags.wait || open.length === 0 || flags.dryRun) break;
          if (systemClock.now() > deadline) throw new CliError(`migrate: ${open.length} move(s) still in progress after ${flags.timeout}: ${open.map((r) => `${r.pod} (${r.message})`).join('; ')}`);
          await systemClock.sleep(500);
        }
        if (flags.output === 'json') printJson({ node: flags.node ?? null, to: flags.to ?? null, moves: rows });
        else process.stdout.write(`${formatTable(['POD', 'PHASE', 'MESSAGE'], rows.map((r) => [r.pod, r.phase, r.message]))}\n`);
        const bad = rows.filter((r) => r.phase === 'Failed' || r.phase === 'Blocked');
        if (bad.length > 0) throw new CliError(`migrate: ${bad.map((r) => `${r.pod} ${r.phase}: ${r.message}`).join('; ')}`);
      } finally {
        await cluster.stop();
      }
    });
}
