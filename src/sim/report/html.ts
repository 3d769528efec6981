/**
 * report.html: one self-contained page (inline CSS and SVG, no network) showing a
 * simulation: usage, forecast and allocation over time for a few workloads, utilisation
 * by platform, the placement matrix, the migration timeline and polyarch against the
 * baselines.
 */
import type { RunResult, SimulationReport, TradeoffPoint } from '../results.ts';
import { figuresOf, tradeoffPoint, type StrategyFigures } from '../summary.ts';
import { barChart, esc, lineChart, scatterChart } from './svg.ts';

const PLATFORM_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#e377c2', '#7f7f7f']; // no red: red means a pod never ran again
const STRATEGY_COLORS: Record<string, string> = { polyarch: '#2b8a3e', 'kube-scheduler': '#c92a2a', 'per-arch': '#e67700', static: '#5c7cfa', vpa: '#862e9c' };

const SHORT: Record<string, string> = { polyarch: 'polyarch', 'kube-scheduler': 'kube', 'per-arch': 'per-arch', static: 'static', vpa: 'VPA' };
const cores = (m: number): string => `${Math.round(m) / 1000}`;
const gib = (b: number): string => `${Math.round((b / 2 ** 30) * 100) / 100}`;
const fmtMinute = (m: number): string => `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;

function appCharts(poly: RunResult, staticRun: RunResult | undefined, vpa: RunResult | undefined): string {
  const xs = poly.timeline.minutes;
  const markers = poly.events.map((e) => ({ x: e.minute, label: `${fmtMinute(e.minute)} ${e.type}: ${e.detail}` }));
  const out: string[] = [];
  for (const [app, s] of Object.entries(poly.timeline.apps)) {
    const st = staticRun?.timeline.apps[app];
    const vp = vpa?.timeline.apps[app];
    out.push(`<div class="pair"><h3>${esc(app)}</h3>`);
    out.push(lineChart({
      title: `${app}: CPU per pod (cores)`, xs, markers, format: (v) => cores(v),
      lines: [
        { label: 'usage', values: s.cpuUsage, color: '#222' },
        { label: 'forecast', values: s.cpuForecast, color: '#f08c00', dash: true },
        { label: 'polyarch request', values: s.cpuRequest, color: '#2b8a3e', width: 2 },
        ...(st ? [{ label: 'static request', values: st.cpuRequest, color: '#5c7cfa', dash: true }] : []),
        ...(vp ? [{ label: 'VPA request', values: vp.cpuRequest, color: '#862e9c', dash: true }] : []),
      ],
    }));
    out.push(lineChart({
      title: `${app}: memory per pod (GiB)`, xs, markers, format: (v) => gib(v),
      lines: [
        { label: 'usage', values: s.memUsage, color: '#222' },
        { label: 'forecast', values: s.memForecast, color: '#f08c00', dash: true },
        { label: 'polyarch request', values: s.memRequest, color: '#2b8a3e', width: 2 },
        { label: 'polyarch limit', values: s.memLimit, color: '#2b8a3e', dash: true, width: 1 },
        ...(st ? [{ label: 'static limit', values: st.memLimit, color: '#5c7cfa', dash: true }] : []),
      ],
    }));
    out.push('</div>');
  }
  return out.join('\n');
}

function platformCharts(poly: RunResult): string {
  const xs = poly.timeline.minutes;
  const names = Object.keys(poly.timeline.platforms).sort();
  const markers = poly.events.map((e) => ({ x: e.minute, label: `${fmtMinute(e.minute)} ${e.type}: ${e.detail}` }));
  const pct = (v: number): string => `${Math.round(v * 100)}%`;
  const cpu = lineChart({
    title: 'CPU used / allocatable, by platform', xs, markers, yMax: 1, format: pct,
    lines: names.map((n, i) => ({ label: n, values: poly.timeline.platforms[n]!.cpuUsed, color: PLATFORM_COLORS[i % PLATFORM_COLORS.length]! })),
  });
  const req = lineChart({
    title: 'CPU requested / allocatable, by platform', xs, markers, yMax: 1, format: pct,
    lines: names.map((n, i) => ({ label: n, values: poly.timeline.platforms[n]!.cpuRequested, color: PLATFORM_COLORS[i % PLATFORM_COLORS.length]! })),
  });
  const mem = lineChart({
    title: 'Memory used / allocatable, by platform', xs, markers, yMax: 1, format: pct,
    lines: names.map((n, i) => ({ label: n, values: poly.timeline.platforms[n]!.memUsed, color: PLATFORM_COLORS[i % PLATFORM_COLORS.length]! })),
  });
  return `<div class="pair">${cpu}${req}${mem}</div>`;
}

function placementMatrix(poly: RunResult, kube: RunResult | undefined, platforms: readonly string[]): string {
  const apps = Object.keys(poly.placementMatrix).sort();
  let max = 1;
  for (const a of apps) for (const p of platforms) max = Math.max(max, poly.placementMatrix[a]?.[p] ?? 0);
  const failed = new Map<string, number>();
  for (const f of kube?.failures ?? []) {
    const app = f.pod.replace(/-[a-z0-9]{5}-[a-z0-9]{5}$/, '').replace(/-[0-9]+$/, '');
    failed.set(app, (failed.get(app) ?? 0) + 1);
  }
  const rows = apps.map((a) => {
    const cells = platforms.map((p) => {
      const v = poly.placementMatrix[a]?.[p] ?? 0;
      const alpha = v === 0 ? 0 : 0.15 + 0.85 * (v / max);
      return `<td class="cell" data-value="${v}" style="background: rgba(43,138,62,${alpha.toFixed(2)})">${v || ''}</td>`;
    }).join('');
    return `<tr><th>${esc(a)}</th>${cells}</tr>`;
  }).join('');
  return `<table class="matrix" data-rows="${apps.length}"><thead><tr><th>workload</th>${platforms.map((p) => `<th>${esc(p)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>
<p class="note">Pods bound per workload and platform over the run by polyarch (re-created pods counted again). Colour: darker = more pods.</p>`;
}

function migrationTimeline(poly: RunResult, minutes: number, platforms: readonly string[]): string {
  const ms = poly.migrations;
  const W = 1100;
  const rowH = 16;
  const L = 330;
  const T = 30;
  const H = T + Math.max(1, ms.length) * rowH + 40;
  const px = (m: number): number => L + (m / minutes) * (W - L - 20);
  const color = (p: string | undefined): string => PLATFORM_COLORS[Math.max(0, platforms.indexOf(p ?? ''))] ?? '#888';
  const parts: string[] = [];
  for (const e of poly.events) {
    parts.push(`<line x1="${px(e.minute).toFixed(1)}" x2="${px(e.minute).toFixed(1)}" y1="${T - 8}" y2="${H - 30}" class="marker"/><text x="${(px(e.minute) + 3).toFixed(1)}" y="${T - 12}" class="axis">${esc(e.type)}</text>`);
  }
  ms.forEach((m, i) => {
    const y = T + i * rowH;
    const end = m.recoveredMinute ?? minutes;
    parts.push(`<text x="${L - 6}" y="${y + 11}" class="axis" text-anchor="end">${esc(`${m.pod} ${m.fromPlatform} → ${m.toPlatform ?? 'not running'}`)}</text>`);
    if (m.outSince < m.minute) parts.push(`<rect x="${px(m.outSince).toFixed(1)}" y="${y + 4}" width="${(px(m.minute) - px(m.outSince)).toFixed(1)}" height="${rowH - 8}" fill="#adb5bd"><title>${esc(`${m.pod}: on the failed node ${m.fromNode} from ${fmtMinute(m.outSince)}, waiting out the toleration`)}</title></rect>`);
    parts.push(`<rect x="${px(m.minute).toFixed(1)}" y="${y + 2}" width="${Math.max(3, px(end) - px(m.minute)).toFixed(1)}" height="${rowH - 4}" fill="${m.recoveredMinute === undefined ? '#c92a2a' : color(m.toPlatform)}"><title>${esc(`${m.pod}: ${m.reason} on ${m.fromNode} (${m.fromPlatform}) at ${fmtMinute(m.minute)}; ${m.toNode ? `running on ${m.toNode} (${m.toPlatform}) at ${fmtMinute(m.recoveredMinute ?? 0)}` : 'never ran again'}${m.refusals ? `; ${m.refusals} eviction(s) refused by a PodDisruptionBudget first` : ''}`)}</title></rect>`);
  });
  for (let i = 0; i <= 8; i++) {
    const m = Math.round((minutes * i) / 8);
    parts.push(`<text x="${px(m).toFixed(1)}" y="${H - 14}" class="axis" text-anchor="middle">${fmtMinute(m)}</text>`);
  }
  const legend = platforms.map((p, i) => `<g transform="translate(${L + i * 150},${H - 2})"><rect x="0" y="-9" width="10" height="10" fill="${color(p)}"/><text x="14" y="0" class="legend">to ${esc(p)}</text></g>`).join('');
  return `<svg class="chart" data-points="${ms.length}" viewBox="0 0 ${W} ${H + 6}" width="${W}" height="${H + 6}" role="img" aria-label="migration timeline">${parts.join('')}${legend}</svg>`;
}

function comparison(figs: readonly StrategyFigures[]): string {
  const metrics: [string, (f: StrategyFigures) => number][] = [
    ['pods lost', (f) => f.podsLost],
    ['exec format error pods', (f) => f.execFormatErrorPods],
    ['pending pod-hours', (f) => f.pendingPodHours],
    ['OOM kills', (f) => f.oomKills],
    ['throttled pod-minutes', (f) => f.throttledPodMinutes],
    ['slack CPU core-hours', (f) => f.slackCpuCoreHours],
    ['slack memory GiB-hours', (f) => f.slackMemoryGiBHours],
    ['control-plane nodes', (f) => f.controlPlaneNodes],
  ];
  const charts = metrics.map(([label, get]) => barChart({
    title: label, width: 270, height: 190,
    series: [{ label, color: '#888' }],
    groups: figs.map((f) => ({ label: SHORT[f.strategy] ?? f.strategy, values: [get(f)], color: STRATEGY_COLORS[f.strategy] ?? '#888' })),
  })).join('');
  const rows: [string, (f: StrategyFigures) => string][] = [
    ['placement', (f) => f.placement],
    ['scaling', (f) => f.scaling],
    ['pods lost / wanted', (f) => `${f.podsLost} / ${f.podsWanted}`],
    ['exec format error pods', (f) => String(f.execFormatErrorPods)],
    ['no image for the node (ErrImagePull)', (f) => String(f.imagePullErrorPods)],
    ['pending pod-hours', (f) => String(f.pendingPodHours)],
    ['bound, not running (pod-hours)', (f) => String(f.downPodHours)],
    ['exec format errors caught / repaired / blocked', (f) => `${f.execFormatCaught} / ${f.execFormatRepaired} / ${f.execFormatBlocked}`],
    ['mean minutes to repair an exec format error', (f) => (f.meanMinutesToRepair === null ? '-' : String(f.meanMinutesToRepair))],
    ['migrations completed / started', (f) => `${f.migrationsCompleted} / ${f.migrations}`],
    ['migrations to another platform', (f) => String(f.migrationsCrossPlatform)],
    ['mean minutes to recover', (f) => (f.meanMinutesToRecover === null ? '-' : String(f.meanMinutesToRecover))],
    ['evictions refused by a PDB (retried)', (f) => String(f.evictionsRefusedByBudget)],
    ['OOM kills', (f) => String(f.oomKills)],
    ['CPU-throttled pod-minutes', (f) => String(f.throttledPodMinutes)],
    ['slack CPU (core-hours)', (f) => String(f.slackCpuCoreHours)],
    ['slack memory (GiB-hours)', (f) => String(f.slackMemoryGiBHours)],
    ['used above request: CPU core-hours', (f) => String(f.shortfallCpuCoreHours)],
    ['used above request: memory GiB-hours', (f) => String(f.shortfallMemoryGiBHours)],
    ['resizes (deferred)', (f) => `${f.resizes} (${f.resizesDeferred})`],
    ['control-plane nodes', (f) => String(f.controlPlaneNodes)],
    ['stranded CPU core-hours', (f) => String(f.strandedCpuCoreHours)],
  ];
  const table = `<table class="compare"><thead><tr><th></th>${figs.map((f) => `<th style="color:${STRATEGY_COLORS[f.strategy] ?? '#000'}">${esc(f.title)}</th>`).join('')}</tr></thead><tbody>${rows.map(([l, g]) => `<tr><th>${esc(l)}</th>${figs.map((f) => `<td>${esc(g(f))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  return `<div class="bars">${charts}</div>${table}`;
}

/** polyarch's slack against its shortage as the headroom quantile varies, beside the baselines (`simulate --tradeoff`). */
function tradeoffSection(report: SimulationReport): string {
  const curve = report.tradeoff ?? [];
  if (curve.length === 0) return '';
  const base = report.runs.filter((r) => r.strategy !== 'polyarch').map((r) => ({ run: r, f: figuresOf(r) }));
  const chart = (title: string, x: (p: TradeoffPoint) => number, xLabel: string): string => scatterChart({
    title,
    xLabel,
    yLabel: 'CPU used above request (core-hours)',
    series: [
      { label: 'polyarch', color: STRATEGY_COLORS['polyarch'] ?? '#000', joined: true, points: curve.map((p) => ({ x: x(p), y: p.shortfallCpuCoreHours, label: `P${Math.round((p.quantile ?? 0) * 100)}` })) },
      ...base.map(({ run, f }) => ({ label: f.title, color: STRATEGY_COLORS[run.strategy] ?? '#888', points: [{ x: x(tradeoffPoint(f.title, run)), y: f.shortfallCpuCoreHours, label: f.title }] })),
    ],
  });
  const rows = [...curve, ...base.map(({ run, f }) => tradeoffPoint(f.title, run))]
    .map((p) => `<tr><th>${esc(p.label)}</th><td>${p.slackCpuCoreHours}</td><td>${p.slackMemoryGiBHours}</td><td>${p.shortfallCpuCoreHours}</td><td>${p.throttledPodMinutes}</td><td>${p.oomKills}</td></tr>`).join('');
  return `<h2>Slack against shortage</h2>
<p class="note">polyarch run again at each headroom quantile (the share of its own recent forecast errors the margin covers); the baselines as single points. Lower left is better.</p>
<div class="pair">${chart('CPU', (p) => p.slackCpuCoreHours, 'CPU slack (core-hours)')}${chart('Memory slack vs CPU shortage', (p) => p.slackMemoryGiBHours, 'memory slack (GiB-hours)')}</div>
<table><thead><tr><th></th><th>CPU slack (core-h)</th><th>memory slack (GiB-h)</th><th>CPU above request (core-h)</th><th>throttled pod-min</th><th>OOM kills</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderReport(report: SimulationReport, generatedBy = 'polyarch simulate'): string {
  const poly = report.runs.find((r) => r.strategy === 'polyarch') ?? report.runs[0];
  if (!poly) throw new Error('renderReport: no runs');
  const kube = report.runs.find((r) => r.strategy === 'kube-scheduler');
  const staticRun = report.runs.find((r) => r.strategy === 'static');
  const vpa = report.runs.find((r) => r.strategy === 'vpa');
  const platforms = Object.keys(report.scenario.platforms);
  const figs = report.runs.map(figuresOf);
  const pf = figuresOf(poly);
  const events = poly.events.map((e) => `<li><b>${fmtMinute(e.minute)}</b> ${esc(e.type)}: ${esc(e.detail)}</li>`).join('');
  const repairs = poly.execFormat.slice(0, 15).map((e) => {
    const moved = poly.migrations.find((m) => m.reason === 'exec-format' && m.pod === e.pod && m.minute >= e.minute);
    const done = e.outcome === 'blocked' ? 'blocked: its image runs on no platform of the cluster' : moved?.recoveredMinute !== undefined ? `running on ${esc(moved.toNode ?? '')} (${esc(moved.toPlatform ?? '')}) at ${fmtMinute(moved.recoveredMinute)}, ${moved.recoveredMinute - moved.outSince} min after it failed` : 'moving';
    return `<tr><td>${fmtMinute(e.failedMinute)}</td><td>${fmtMinute(e.minute)}</td><td>${esc(e.pod)}</td><td>${esc(e.node)} (${esc(e.platform)})</td><td>${esc(e.image)}</td><td><code>${esc(e.digest.slice(0, 19))}</code></td><td>${done}</td></tr>`;
  }).join('');
  const failures = (kube?.failures ?? []).slice(0, 15).map((f) => `<tr><td>${fmtMinute(f.minute)}</td><td>${esc(f.pod)}</td><td>${esc(f.node)} (${esc(f.platform)})</td><td>${esc(f.image)}</td><td>${esc(f.reason)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>polyarch simulation: ${esc(report.scenario.name)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#1b1b1b;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:14px;margin:12px 0 4px;width:100%}
.lead{color:#555}.pair{display:flex;flex-wrap:wrap;gap:8px}.bars{display:flex;flex-wrap:wrap;gap:6px}
.chart{background:#fafafa;border:1px solid #eee;border-radius:4px}.grid{stroke:#e3e3e3}.marker{stroke:#999;stroke-dasharray:2,3}
.axis{font-size:10px;fill:#555}.legend{font-size:10px;fill:#333}.title{font-size:12px;font-weight:600;fill:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e3e3e3;padding:3px 8px;text-align:right}th{text-align:left;background:#f6f6f6;font-weight:600}
.matrix td.cell{min-width:70px;text-align:center}.note{color:#666;font-size:12px}.kpi{display:flex;gap:12px;flex-wrap:wrap}
.kpi div{background:#f4f8f4;border:1px solid #d3e5d3;border-radius:6px;padding:8px 12px}.kpi b{display:block;font-size:20px}
</style></head><body>
<h1>polyarch simulation: ${esc(report.scenario.name)}</h1>
<p class="lead">${report.scenario.nodes} nodes (${platforms.map((p) => `${report.scenario.platforms[p]} ${esc(p)}`).join(', ')}), ${report.scenario.workloads} workloads, ${Math.round((report.scenario.minutes / 60) * 10) / 10} simulated hours, seed ${report.seed}. Every strategy ran the same scenario with the same seed. Generated by <code>${esc(generatedBy)}</code>.</p>
<div class="kpi">
<div><b>${pf.execFormatErrorPods}</b>exec format errors (kube-scheduler: ${kube ? figuresOf(kube).execFormatErrorPods : '-'})</div>
<div><b>${pf.execFormatRepaired}/${pf.execFormatCaught}</b>exec format errors repaired (mean ${pf.meanMinutesToRepair ?? '-'} min), ${pf.execFormatBlocked} blocked</div>
<div><b>${pf.migrationsCompleted}/${pf.migrations}</b>migrations completed, ${pf.migrationsCrossPlatform} to another platform</div>
<div><b>${pf.oomKills}</b>OOM kills (static: ${staticRun ? figuresOf(staticRun).oomKills : '-'}, VPA: ${vpa ? figuresOf(vpa).oomKills : '-'})</div>
<div><b>${pf.podsLost}</b>pods lost (kube-scheduler: ${kube ? figuresOf(kube).podsLost : '-'})</div>
</div>
<h2>Timeline</h2><ul>${events || '<li>no events</li>'}</ul>
<h2>polyarch against the baselines</h2>
${comparison(figs)}
${tradeoffSection(report)}
<h2>Usage, forecast and allocation</h2>
<p class="note">Per pod of the workload: the highest use among its replicas, polyarch's forecast (double moving average, the policy's horizon ahead) and the requests it set, against the static requests and the VPA-style recommender. Dotted vertical lines are the timeline's events.</p>
${appCharts(poly, staticRun, vpa)}
<h2>Utilisation by platform</h2>
${platformCharts(poly)}
<h2>Placement matrix</h2>
${placementMatrix(poly, kube, platforms)}
<h2>Migrations</h2>
<p class="note">Grey: the pod sat on a failed node, waiting out the toleration. Coloured: from the moment it left its node (evicted on a drain, or deleted after the toleration) to the moment its replacement ran, in the colour of the platform it landed on; red: never ran again.</p>
${migrationTimeline(poly, report.scenario.minutes, platforms)}
<h2>Exec format errors caught and repaired</h2>
<p class="note">An image whose registry entry names a platform its binary is not built for fails at run time (<code>exec /app: exec format error</code>). polyarch reads it from the pod's status and log tail, records that digest as not running on that platform (the scheduler never places it there again), and moves the pod to another platform its image has; a pod whose image runs nowhere is left blocked.</p>
<table><thead><tr><th>failed</th><th>caught</th><th>pod</th><th>node</th><th>image</th><th>digest</th><th>what became of it</th></tr></thead><tbody>${repairs || '<tr><td colspan="7">none</td></tr>'}</tbody></table>
<h2>kube-scheduler without platform awareness: failures</h2>
<table><thead><tr><th>time</th><th>pod</th><th>node</th><th>image as written</th><th>failure</th></tr></thead><tbody>${failures || '<tr><td colspan="5">none</td></tr>'}</tbody></table>
<script>
// Marks the page as rendered, with how many charts have data (read by the browser test).
document.body.dataset.charts = String(document.querySelectorAll('svg.chart').length);
document.body.dataset.emptyCharts = String([...document.querySelectorAll('svg.chart')].filter(function (s) { return Number(s.getAttribute('data-points')) === 0; }).length);
</script>
</body></html>
`;
}
