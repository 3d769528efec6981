/**
 * `polyarch plan --input FILE`: the scaling and reclaim plan for a snapshot of applications
 * and capacity (JSON or YAML; see docs/scaling.md and examples/plan.json).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { readPlanFile } from '../../adapters/scaling/plan-file.ts';
import { METRICS } from '../../core/forecast/window.ts';
import { describeAmount, plan } from '../../core/scaling/plan.ts';
import { RESOURCES, RESOURCE_METRIC, type Plan, type PlanPolicy } from '../../core/scaling/types.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson } from '../output.ts';

const optionsSchema = z.object({ input: z.string().min(1), output: z.enum(['text', 'json']) });

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export function planJson(p: Plan, policy: PlanPolicy): unknown {
  return {
    policy,
    fits: p.fits,
    resources: p.resources,
    apps: p.apps.map((a) => ({
      name: a.name,
      priority: a.priority,
      score: r6(a.score),
      aplv: r6(a.aplv),
      aptl: r6(a.aptl),
      maxima: a.maxima,
      forecasts: Object.fromEntries(METRICS.map((m) => {
        const f = a.forecasts[m];
        return [m, f.ok ? { next: r4(f.value) } : { next: null, reason: f.reason, have: f.have, needed: f.needed }];
      })),
      headroom: a.headroom,
      desired: a.desired,
      allocation: a.allocation,
      actions: a.actions,
      marks: a.marks,
    })),
    releases: p.releases.map((r) => ({ ...r, score: r6(r.score) })),
    unmet: p.unmet,
  };
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .requiredOption('-i, --input <file>', 'snapshot: capacity, policy and apps with allocations and usage')
    .addOption(outputOption())
    .action(async (raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) throw usageError(`--${String(parsed.error.issues[0]!.path[0])}: ${parsed.error.issues[0]!.message}`);
      const read = await readPlanFile(parsed.data.input);
      if (!read.ok) throw new CliError(read.error, 1);
      const result = plan(read.value);
      if (parsed.data.output === 'json') {
        printJson(planJson(result, read.value.policy));
        return;
      }
      process.stdout.write(`${planText(result)}\n`);
    });
}

function planText(p: Plan): string {
  const out: string[] = [];
  out.push(p.fits ? 'Every increase fits (P <= Q for every resource): granted, nothing reclaimed.' : 'Not enough free capacity: reclaiming by score before granting increases.');
  out.push('');
  out.push(formatTable(
    ['resource', 'capacity', 'allocated', 'wanted (P)', 'free (Q)', 'deficit', 'released', 'granted', 'unmet'],
    RESOURCES.map((r) => {
      const s = p.resources[r];
      return [r, ...[s.capacity, s.allocated, s.wanted, s.free, s.deficit, s.released, s.granted, s.unmet].map((x) => (x < 0 ? `-${describeAmount(r, -x)}` : describeAmount(r, x)))];
    }),
  ));
  if (p.releases.length > 0) {
    out.push('');
    out.push('Releases, in the order taken:');
    p.releases.forEach((r, i) => out.push(`  ${i + 1}. ${r.app} (score ${r.score.toFixed(4)}): ${r.kind} ${describeAmount(r.resource, r.amount)} ${r.resource}, ${r.generation}`));
  }
  for (const a of p.apps) {
    out.push('');
    out.push(`${a.name}  priority ${a.priority}  score ${a.score.toFixed(4)} (aplv ${a.aplv.toFixed(3)}, aptl ${a.aptl.toFixed(3)})`);
    const fc = RESOURCES.map((r) => {
      const f = a.forecasts[RESOURCE_METRIC[r]];
      const h = a.headroom[r];
      const margin = h ? ` + ${describeAmount(r, h.amount)} (${h.source === 'errors' ? `P${Math.round(h.quantile * 100)} of ${h.errors} recent errors` : `floor, ${h.errors} errors`})` : '';
      return `${r} ${f.ok ? describeAmount(r, f.value) : `- (${f.reason}, ${f.have}/${f.needed})`}${margin}`;
    });
    out.push(`  forecast demand + headroom: ${fc.join(', ')}`);
    if (a.actions.length === 0) out.push('  no change');
    for (const x of a.actions) out.push(`  ${x.kind} ${x.resource} ${describeAmount(x.resource, x.amount)}${x.generation ? ` [${x.generation}]` : ''}: ${x.detail}`);
  }
  return out.join('\n');
}
