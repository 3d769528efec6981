/**
 * `polyarch schedule FILE...`: place the pending pods of a set of manifests on their
 * nodes and explain each decision (S2-S4 of the placement method, no cluster needed).
 */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadImageCatalog } from '../../adapters/registry/catalog.ts';
import { readManifests } from '../../adapters/manifests/read.ts';
import { MAX_NODES, MAX_PODS, tooManyPods, workloadPodCount } from '../../core/k8s/index.ts';
import { systemClock } from '../../adapters/system-clock.ts';
import { ImageLookupService } from '../../app/image-lookup.ts';
import { createFramework, imageReferences, createRng, scheduleCluster, splitPods, type Decision, type Framework } from '../../core/placement/index.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';
import { addRegistryOptions, imageLookupFromFlags, type RegistryFlags } from '../registry-flags.ts';

interface Flags extends RegistryFlags {
  readonly images?: string;
  readonly explain?: string;
  readonly output: OutputFormat;
  readonly seed: string;
  readonly prefer: string[];
  readonly weight: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerSchedule(program: Command): void {
  addRegistryOptions(program
    .command('schedule')
    .argument('<files...>', 'manifests: multi-document YAML, JSON, or a kind: List (Nodes, Pods, Deployments, StatefulSets, ReplicaSets, DaemonSets, Jobs, PriorityClasses); the --images file is left out when a glob takes it')
    .option('--images <file>', 'offline image catalog (reference -> platforms and digests; collected `polyarch inspect -o json` output works)')
    .option('--explain <pod>', 'print the full decision for one pod (namespace/name, or name)')
    .option('--seed <n>', 'seed of the tie-break RNG', '1')
    .option('--prefer <platform=weight>', 'architecture preference 0..100, repeatable (e.g. --prefer linux/arm64=100)', collect, [])
    .option('--weight <plugin=weight>', 'score plugin weight, repeatable (e.g. --weight LeastAllocated=2; 0 turns a plugin off)', collect, [])
    .addOption(outputOption()))
    .action(async (files: string[], flags: Flags) => {
      await runSchedule(files, flags);
    });
}

function parsePairs(flag: string, what: string, items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=]+)=([0-9]+(?:\.[0-9]+)?)$/.exec(item);
    if (!m?.[1] || !m[2]) throw usageError(`${flag}: expected ${what}=WEIGHT, got "${item}"`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

async function runSchedule(files: readonly string[], flags: Flags): Promise<void> {
  if (!/^[0-9]+$/.test(flags.seed) || Number(flags.seed) > 0xffffffff) throw usageError(`--seed: expected an integer 0..4294967295, got "${flags.seed}"`);
  const fw = createFramework({
    architecturePreference: parsePairs('--prefer', 'PLATFORM', flags.prefer),
    weights: parsePairs('--weight', 'PLUGIN', flags.weight),
  });
  if (!fw.ok) throw usageError(fw.error);

  // Images resolve through the offline catalog when one is given, else the registry: the same lookup service either way.
  let images: ImageLookupService;
  if (flags.images) {
    const catalog = await loadImageCatalog(flags.images);
    if (!catalog.ok) throw new CliError(catalog.error);
    images = new ImageLookupService({ source: catalog.value, clock: systemClock });
  } else {
    images = await imageLookupFromFlags(flags);
  }
  try {
    await scheduleWith(files, flags, fw.value, images);
  } finally {
    await images.close();
  }
}

async function scheduleWith(files: readonly string[], flags: Flags, fw: Framework, images: ImageLookupService): Promise<void> {

  // `schedule dir/*.yaml --images dir/images.yaml`: the glob takes the catalog too, and a catalog is never a manifest.
  const catalog = flags.images === undefined ? undefined : resolve(flags.images);
  const manifests = await readManifests(files.filter((f) => resolve(f) !== catalog));
  // A manifest that cannot be read or is invalid is bad usage, as an invalid scenario is for simulate.
  if (!manifests.ok) throw usageError(manifests.error);
  const objects = manifests.value;
  // Checked before anything is expanded: replicas: 1000000000 is a usage error, not 3 GiB of pods.
  if (objects.nodes.length > MAX_NODES) throw usageError(`${objects.nodes.length} nodes, over the limit of ${MAX_NODES} (Kubernetes' tested maximum per cluster)`);
  const pods = workloadPodCount(objects);
  if (pods > MAX_PODS) throw usageError(tooManyPods(pods));
  const { pending } = splitPods(objects);
  const { lookup } = await images.resolveAll(imageReferences(pending.map((p) => p.pod)));
  const plan = scheduleCluster(fw, objects, lookup, createRng(Number(flags.seed)));
  for (const w of plan.warnings) process.stderr.write(`polyarch: warning: ${w}\n`);

  if (flags.explain !== undefined) {
    const d = findDecision(plan.decisions, flags.explain);
    if (flags.output === 'json') printJson(d);
    else process.stdout.write(`${explain(d)}\n`);
    return;
  }
  const scheduled = plan.decisions.filter((d) => d.outcome === 'scheduled').length;
  if (flags.output === 'json') {
    printJson({
      decisions: plan.decisions.map((d) => ({ pod: d.pod, node: d.node, platform: d.platform, images: d.images, reason: d.reason })),
      summary: { scheduled, unschedulable: plan.decisions.length - scheduled },
    });
    return;
  }
  const rows = plan.decisions.map((d) => [d.pod, d.node ?? '-', d.platform ?? '-', d.reason]);
  process.stdout.write(`${formatTable(['POD', 'NODE', 'PLATFORM', 'REASON'], rows)}\n\n${scheduled} scheduled, ${plan.decisions.length - scheduled} unschedulable\n`);
}

function findDecision(decisions: readonly Decision[], wanted: string): Decision {
  const exact = decisions.find((d) => d.pod === wanted);
  if (exact) return exact;
  const byName = decisions.filter((d) => d.pod.split('/')[1] === wanted);
  if (byName.length === 1 && byName[0]) return byName[0];
  if (byName.length > 1) throw new CliError(`--explain ${wanted}: several pods have that name (${byName.map((d) => d.pod).join(', ')}); give namespace/name`);
  throw new CliError(`--explain ${wanted}: no pending pod of that name (pending: ${decisions.slice(0, 8).map((d) => d.pod).join(', ')}${decisions.length > 8 ? ', ...' : ''})`);
}

/** The full decision for a human. */
export function explain(d: Decision): string {
  const lines: string[] = [];
  lines.push(`pod ${d.pod} (priority ${d.priority})`);
  lines.push(d.outcome === 'scheduled' ? `  scheduled on ${d.node} (${d.platform})` : `  ${d.outcome}`);
  lines.push(`  reason: ${d.reason}`);
  if (d.supportedPlatforms.length) lines.push(`  platforms all its images exist for: ${d.supportedPlatforms.join(', ')}`);
  if (d.choices.length) {
    lines.push('  images:');
    for (const c of d.choices) lines.push(`    ${c.init ? 'init ' : ''}${c.container}: ${c.original} -> ${c.image} (${c.platform}${c.exact ? '' : ', compatible lower variant'})`);
  }
  lines.push(`  nodes: ${d.nodes.total} total, ${d.nodes.evaluated} examined, ${d.nodes.feasible} feasible`);
  const failures = Object.entries(d.failures).sort((a, b) => b[1] - a[1]);
  if (failures.length) {
    lines.push('  refused by:');
    for (const [reason, n] of failures) lines.push(`    ${n} ${reason}`);
  }
  if (d.candidates.length) {
    const plugins = Object.keys(d.candidates[0]?.scores ?? {});
    lines.push('  best nodes (each plugin 0-100, total = sum of weight x score):');
    const table = formatTable(['NODE', 'PLATFORM', 'TOTAL', ...plugins], d.candidates.map((c) => [c.node, c.platform, String(c.total), ...plugins.map((p) => String(c.scores[p] ?? 0))]));
    for (const l of table.split('\n')) lines.push(`    ${l}`);
  }
  return lines.join('\n');
}
