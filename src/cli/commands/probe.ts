import { parseDuration } from '../duration.ts';
import { parseListen } from '../../server/listen.ts';
import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { CgroupReader, detectLayout } from '../../adapters/probe/cgroup-fs.ts';
import { filePodInfoSource } from '../../adapters/probe/pod-list.ts';
import type { PodInfoSource } from '../../ports/pod-info.ts';
import { ProbeSampler, type NodeCapacity } from '../../adapters/probe/sampler.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { parseMemTotal } from '../../core/probe/parse.ts';
import { parseQuantity } from '../../core/k8s/quantity.ts';
import type { MetricWindow, WindowsReport } from '../../core/probe/report.ts';
import { startProbeServer } from '../../server/probe-server.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';

interface ProbeFlags {
  cgroupRoot: string;
  procRoot: string;
  kubepods?: string;
  interval: string;
  warmup: string;
  listen: string;
  once?: boolean;
  output: OutputFormat;
  nodeName?: string;
  podsFile?: string;
  kube?: boolean;
  kubeconfig?: string;
  cpuCapacity?: string;
  memCapacity?: string;
  netCapacity: string;
  diskCapacity: string;
  allowReclaim?: boolean;
}

/** "5s", "500ms", "2m", "1h", or a bare number of seconds. */
/** A duration flag (cli/duration.ts's syntax: 5s, 500ms, 2m, 1m30s; a bare number is seconds). */
function durationFlag(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw usageError(`${flag}: expected a duration such as 5s, 500ms or 2m, got "${text}"`);
  return ms;
}

function parseAmount(text: string, flag: string): number {
  const q = parseQuantity(text);
  if (!q.ok || !(q.value > 0)) throw usageError(`${flag}: expected a positive quantity such as 4, 16Gi or 1250M, got "${text}"`);
  return q.value;
}

/** `--listen` parsed as every command parses it (server/listen.ts); no host: every IPv4 interface. */
function listenAddress(text: string): { host: string; port: number } {
  const r = parseListen(text);
  if (!r.ok) throw usageError(r.error);
  return { host: r.host ?? '0.0.0.0', port: r.port };
}

function nodeCapacity(flags: ProbeFlags): NodeCapacity {
  let mem: { amount: number; source: string };
  if (flags.memCapacity !== undefined) mem = { amount: parseAmount(flags.memCapacity, '--mem-capacity'), source: '--mem-capacity' };
  else {
    const file = join(flags.procRoot, 'meminfo');
    let parsed: ReturnType<typeof parseMemTotal> | undefined;
    try {
      parsed = parseMemTotal(readFileSync(file, 'utf8'));
    } catch {
      parsed = undefined;
    }
    mem = parsed?.ok ? { amount: parsed.value, source: `${file} MemTotal` } : { amount: totalmem(), source: 'os.totalmem()' };
  }
  return {
    cpu: flags.cpuCapacity !== undefined ? { amount: parseAmount(flags.cpuCapacity, '--cpu-capacity'), source: '--cpu-capacity' } : { amount: cpus().length, source: 'CPUs online' },
    mem,
    net: { amount: parseAmount(flags.netCapacity, '--net-capacity'), source: '--net-capacity' },
    disk: { amount: parseAmount(flags.diskCapacity, '--disk-capacity'), source: '--disk-capacity' },
  };
}

/**
 * The pods of this node from the Kubernetes API: in a pod (no --kubeconfig) through its
 * service account, without loading the Kubernetes client, which would be most of the
 * probe's memory (docs/operations.md); else the kubeconfig given, $KUBECONFIG or ~/.kube/config.
 */
async function kubePods(kubeconfig: string | undefined, nodeName: string): Promise<PodInfoSource> {
  const [{ kubeConfigAccess, serviceAccountAccess }, { kubePodInfoSource }] = await Promise.all([
    import('../../adapters/kube/api-access.ts'),
    import('../../adapters/probe/pod-info-kube.ts'),
  ]);
  let access = kubeconfig ? undefined : serviceAccountAccess();
  if (!access) {
    const { loadKubeConfig } = await import('../../adapters/kube/config.ts');
    try {
      access = kubeConfigAccess(loadKubeConfig(kubeconfig ? { kubeconfig } : {}));
    } catch (err) {
      throw new CliError(`--kube: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return kubePodInfoSource({ access, nodeName, clock: systemClock });
}

const fmt = (w: MetricWindow | undefined, digits: number, scale = 1): string =>
  w?.current === undefined ? '-' : `${(w.current / scale).toFixed(digits)} (${w.basis.kind})`;

export function formatReport(r: WindowsReport): string {
  const rows: string[][] = [];
  for (const p of r.pods) {
    for (const c of p.containers) {
      rows.push([
        p.name ? `${p.namespace}/${p.name}` : p.uid,
        c.name,
        p.monitoring.state,
        fmt(c.metrics.cpu, 3),
        fmt(c.metrics.mem, 1, 2 ** 20),
        fmt(c.metrics.disk, 1, 1e6),
        p.net ? fmt(p.net, 2, 1e6) : 'host',
        String(c.metrics.cpu.utilisation.length),
      ]);
    }
  }
  const head = `node ${r.node}: cgroup ${r.cgroup.version}${r.cgroup.driver ? ` (${r.cgroup.driver} driver)` : ''} at ${r.cgroup.base}; pod list: ${r.podInfo.source}${r.podInfo.error ? ` (error: ${r.podInfo.error})` : ''}`;
  const table = formatTable(['POD', 'CONTAINER', 'MONITORING', 'CPU CORES', 'MEM MiB', 'DISK MB/s', 'NET MB/s', 'MINUTES'], rows);
  const errors = r.errors.map((e) => `error: ${e.message}`);
  return [head, table, ...errors].join('\n');
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .option('--cgroup-root <dir>', 'where the host\'s cgroup tree is mounted', '/sys/fs/cgroup')
    .option('--proc-root <dir>', 'where the host\'s /proc is mounted (for net/dev and meminfo)', '/proc')
    .option('--kubepods <path>', 'kubepods cgroup relative to the root, when not kubepods.slice or kubepods')
    .option('--interval <duration>', 'time between samples', '5s')
    .option('--warmup <duration>', 'after a pod is Ready, wait this long before counting its use', '60s')
    .option('--listen <[host:]port>', 'serve /windows, /metrics, /healthz and POST /reclaim here', '9477')
    .option('--once', 'take one sample set (two readings one interval apart, for rates), print it and exit')
    .option('--node-name <name>', 'this node\'s name (default: $NODE_NAME, else the host name)')
    .option('--kube', 'read the pods on this node (readiness, requests, limits) from the Kubernetes API (in-cluster, or --kubeconfig)')
    .option('--kubeconfig <file>', 'kubeconfig for --kube outside a cluster')
    .option('--pods-file <file>', 'the pods on this node as a PodList JSON (kubectl get pods -o json); re-read every sample')
    .option('--cpu-capacity <cores>', 'node CPU when a container has no limit or request (default: CPUs online)')
    .option('--mem-capacity <bytes>', 'node memory when a container has no limit or request (default: MemTotal)')
    .option('--net-capacity <bytes/s>', 'node network bandwidth, the basis of network utilisation', '1250M')
    .option('--disk-capacity <bytes/s>', 'node disk bandwidth, the basis of disk utilisation', '500M')
    .option('--allow-reclaim', 'serve POST /reclaim, which writes memory.reclaim (cgroup v2, needs the cgroup tree mounted read-write); needs a bearer token in $POLYARCH_PROBE_TOKEN')
    .addOption(outputOption())
    .action(async (flags: ProbeFlags) => {
      const intervalMs = durationFlag(flags.interval, '--interval');
      if (intervalMs < 100) throw usageError('--interval: at least 100ms');
      const warmupMs = durationFlag(flags.warmup, '--warmup');
      const listen = flags.once ? undefined : listenAddress(flags.listen);
      // Fail closed: reclaim is served only behind a token, so asking for it without one is a usage error, not an open endpoint.
      const token = process.env['POLYARCH_PROBE_TOKEN'] || undefined;
      if (flags.allowReclaim && !flags.once && token === undefined) throw usageError('--allow-reclaim needs a bearer token in $POLYARCH_PROBE_TOKEN: POST /reclaim is never served without one');
      const capacity = nodeCapacity(flags);
      const layout = detectLayout(flags.cgroupRoot);
      if (!layout.ok) throw new CliError(layout.error);
      const reader = new CgroupReader({ layout: layout.layout, procRoot: flags.procRoot, ...(flags.kubepods ? { kubepods: flags.kubepods } : {}) });
      if (flags.kube && flags.podsFile) throw usageError('--kube and --pods-file: pick one source of pods');
      const nodeName = flags.nodeName ?? process.env['NODE_NAME'] ?? hostname();
      let pods: PodInfoSource | undefined;
      if (flags.podsFile) pods = filePodInfoSource(flags.podsFile, flags.nodeName ?? process.env['NODE_NAME']);
      else if (flags.kube) pods = await kubePods(flags.kubeconfig, nodeName);
      const sampler = new ProbeSampler({
        reader,
        clock: systemClock,
        nodeName,
        capacity,
        ...(pods ? { pods } : {}),
        intervalMs,
        warmupMs,
        ...(flags.allowReclaim ? { allowReclaim: true } : {}),
      });

      if (flags.once) {
        const first = await sampler.sample();
        if (first.errors.length > 0 && first.containers === 0 && first.errors.some((e) => e.path === reader.base)) throw new CliError(first.errors[0]!.message);
        await systemClock.sleep(intervalMs);
        await sampler.sample();
        const report = sampler.windows();
        if (flags.output === 'json') printJson(report);
        else process.stdout.write(`${formatReport(report)}\n`);
        return;
      }

      const log = pino({ name: 'polyarch-probe' }, pino.destination(2));
      const server = await startProbeServer({ probe: sampler, host: listen!.host, port: listen!.port, ...(token && flags.allowReclaim ? { reclaimToken: token } : {}) }).catch((err: unknown) => {
        throw new CliError(`--listen ${flags.listen}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      });
      log.info({ url: server.url, cgroup: layout.layout.version, base: reader.base, intervalMs, warmupMs, pods: pods?.description ?? 'none' }, 'probe serving');
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      let lastErrors = '';
      await sampler.run(stop.signal, (o) => {
        const errs = o.errors.map((e) => e.message).join('; ');
        if (errs !== lastErrors) {
          if (errs) log.warn({ errors: o.errors }, 'read errors');
          else if (lastErrors) log.info('read errors cleared');
          lastErrors = errs;
        }
      });
      await server.close();
      log.info('probe stopped');
    });
}
