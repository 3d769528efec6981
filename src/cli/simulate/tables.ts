/** The terminal summary: placements by platform, migrations, polyarch against the baselines. */
import { formatTable } from '../output.ts';
import type { SummaryJson, StrategyFigures } from '../../sim/summary.ts';

const n = (x: number | null): string => (x === null ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(1));

export function renderSummary(s: SummaryJson, reportPath: string | undefined): string {
  const out: string[] = [];
  const poly = s.strategies.find((f) => f.strategy === 'polyarch') ?? s.strategies[0];
  const platformNames = Object.keys(s.scenario.platforms);
  out.push(`Scenario ${s.scenario.name}: ${s.scenario.nodes} nodes (${platformNames.map((p) => `${s.scenario.platforms[p]} ${p}`).join(', ')}), ${s.scenario.workloads} workloads, ${Math.round(s.scenario.minutes / 60 * 10) / 10} h simulated, seed ${s.seed}`);
  if (poly) {
    out.push('', 'Placements by platform (polyarch)');
    out.push(formatTable(['platform', 'nodes', 'pods placed', 'running at end'], platformNames.map((p) => [p, String(s.scenario.platforms[p] ?? 0), String(poly.placementsByPlatform[p] ?? 0), String(poly.runningByPlatform[p] ?? 0)])));
  }
  out.push('', `Migrations (polyarch): ${s.migrations.length}`);
  if (s.migrations.length > 0) {
    out.push(formatTable(['minute', 'pod', 'reason', 'from', 'to', 'min. to run again', 'out of service', 'PDB waits'], s.migrations.slice(0, 20).map((m) => [
      String(m.minute), m.pod, m.reason, `${m.from} (${m.fromPlatform})`, m.to ? `${m.to} (${m.toPlatform})` : 'not running', n(m.minutesToRecover), n(m.minutesOutOfService), String(m.budgetRefusals),
    ])));
    if (s.migrations.length > 20) out.push(`... ${s.migrations.length - 20} more (--output json lists all)`);
  }
  if (s.execFormatRepairs.length > 0) {
    out.push('', `Exec format errors caught (polyarch): ${s.execFormatRepairs.length}`);
    out.push(formatTable(['minute', 'pod', 'node (platform)', 'image', 'digest', 'done'], s.execFormatRepairs.slice(0, 10).map((e) => [
      String(e.minute), e.pod, `${e.node} (${e.platform})`, e.image, e.digest.slice(0, 19), e.outcome === 'moving' ? 'recorded, moved' : 'blocked: runs nowhere',
    ])));
  }
  out.push('', 'polyarch against the baselines (same scenario, same seed)');
  const rows: [string, (f: StrategyFigures) => string][] = [
    ['pods lost (wanted, not running at end)', (f) => `${f.podsLost}/${f.podsWanted}`],
    ['pods with exec format error', (f) => n(f.execFormatErrorPods)],
    ['  caught / repaired / blocked', (f) => `${f.execFormatCaught}/${f.execFormatRepaired}/${f.execFormatBlocked}`],
    ['  minutes to repair (mean)', (f) => n(f.meanMinutesToRepair)],
    ['pods with no image for the node', (f) => n(f.imagePullErrorPods)],
    ['pending time (pod-hours)', (f) => n(f.pendingPodHours)],
    ['not running while bound (pod-hours)', (f) => n(f.downPodHours)],
    ['migrations completed / started', (f) => `${f.migrationsCompleted}/${f.migrations}`],
    ['  of which to another platform', (f) => n(f.migrationsCrossPlatform)],
    ['OOM kills', (f) => n(f.oomKills)],
    ['CPU-throttled pod-minutes', (f) => n(f.throttledPodMinutes)],
    ['CPU-starved pod-minutes (node contention)', (f) => n(f.starvedPodMinutes)],
    ['evictions (node pressure)', (f) => n(f.nodePressureEvictions)],
    ['slack CPU (core-hours requested, unused)', (f) => n(f.slackCpuCoreHours)],
    ['slack memory (GiB-hours)', (f) => n(f.slackMemoryGiBHours)],
    ['used above request, CPU (core-hours)', (f) => n(f.shortfallCpuCoreHours)],
    ['resizes (deferred)', (f) => `${f.resizes} (${f.resizesDeferred})`],
    ['mean minutes to Ready (pods with startup boost)', (f) => `${n(f.meanMinutesToReady)} (${f.startupBoostedPods})`],
    ['control-plane nodes', (f) => n(f.controlPlaneNodes)],
    ['stranded CPU (core-hours)', (f) => n(f.strandedCpuCoreHours)],
  ];
  out.push(formatTable(['', ...s.strategies.map((f) => f.title)], rows.map(([label, get]) => [label, ...s.strategies.map(get)])));
  if (s.invariantViolations.length > 0) out.push('', `Invariant violations: ${s.invariantViolations.length}`, ...s.invariantViolations.slice(0, 5).map((v) => `  ${v}`));
  if (reportPath) out.push('', `Report: ${reportPath}`);
  return out.join('\n');
}
