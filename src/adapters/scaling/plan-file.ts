/**
 * Reads a scaling snapshot (`polyarch plan --input FILE`), JSON or YAML, and validates it
 * with a schema: a bad input is an error value naming the field (e.g.
 * `apps[1].allocation.memory: '8Gx' has an unknown suffix 'Gx' ...`). Quantities are
 * Kubernetes quantity strings or plain numbers: cpu in cores, memory in bytes, network and
 * disk in bytes per second.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseQuantity } from '../../core/k8s/quantity.ts';
import { DEFAULT_POLICY, type PlanInput } from '../../core/scaling/types.ts';
import { formatPath } from '../../core/field-path.ts';

export const MAX_USAGE_MINUTES = 60;

const quantity = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) {
      ctx.addIssue({ code: 'custom', message: `${v} must be a finite number >= 0` });
      return z.NEVER;
    }
    return v;
  }
  const q = parseQuantity(v);
  if (!q.ok) {
    ctx.addIssue({ code: 'custom', message: q.error });
    return z.NEVER;
  }
  if (q.value < 0) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is negative` });
    return z.NEVER;
  }
  return q.value;
});

const amounts = z.strictObject({ cpu: quantity, memory: quantity, network: quantity, disk: quantity });
const partialAmounts = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), network: quantity.optional(), disk: quantity.optional() });
const series = z.array(z.number().min(0, 'a utilisation must be in [0,1]').max(1, 'a utilisation must be in [0,1]')).max(MAX_USAGE_MINUTES, `at most ${MAX_USAGE_MINUTES} per-minute values (the usage window)`).default([]);
const amountSeries = z.array(z.number().min(0, 'a demand must be >= 0')).max(MAX_USAGE_MINUTES, `at most ${MAX_USAGE_MINUTES} per-minute values`).default([]);

const app = z.strictObject({
  name: z.string().min(1, 'must not be empty'),
  priority: z.number().int().default(0),
  system: z.boolean().default(false),
  runningMinutes: z.number().min(0).default(0),
  allocation: amounts,
  /** Utilisations of the allocation in [0, 1] (the method's form; read as demand = utilisation x allocation)... */
  usage: z.strictObject({ cpu: series, mem: series, net: series, disk: series }).optional(),
  /** ... or the demand itself: cores, bytes, bytes/s, not capped at the allocation. */
  demand: z.strictObject({ cpu: amountSeries, mem: amountSeries, net: amountSeries, disk: amountSeries }).optional(),
  pods: z.number().int().min(1).optional(),
  min: partialAmounts.optional(),
  max: partialAmounts.optional(),
  marked: partialAmounts.optional(),
});

export const planInputSchema = z
  .strictObject({
    capacity: amounts,
    policy: z
      .strictObject({
        window: z.number().int().min(2).max(30).default(DEFAULT_POLICY.window),
        horizon: z.number().int().min(1).max(1440).default(DEFAULT_POLICY.horizon),
        headroom: z.number().min(0).max(10).default(DEFAULT_POLICY.headroom),
        youngMinutes: z.number().int().min(1).max(MAX_USAGE_MINUTES).default(DEFAULT_POLICY.youngMinutes),
        compactStep: z.number().gt(0).max(1).default(DEFAULT_POLICY.compactStep),
        errorQuantile: z.number().min(0).max(1).default(DEFAULT_POLICY.errorQuantile),
        errorWindow: z.number().int().min(1).max(MAX_USAGE_MINUTES).default(DEFAULT_POLICY.errorWindow),
        maxPodChanges: z.number().int().min(0).optional(),
      })
      .default({ window: DEFAULT_POLICY.window, horizon: DEFAULT_POLICY.horizon, headroom: DEFAULT_POLICY.headroom, youngMinutes: DEFAULT_POLICY.youngMinutes, compactStep: DEFAULT_POLICY.compactStep, errorQuantile: DEFAULT_POLICY.errorQuantile, errorWindow: DEFAULT_POLICY.errorWindow }),
    apps: z.array(app),
  })
  .superRefine((v, ctx) => {
    const seen = new Map<string, number>();
    v.apps.forEach((a, i) => {
      const j = seen.get(a.name);
      if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['apps', i, 'name'], message: `duplicate name '${a.name}' (also apps[${j}])` });
      if ((a.usage === undefined) === (a.demand === undefined)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'usage'], message: 'give exactly one of usage (utilisations) and demand (amounts)' });
      else seen.set(a.name, i);
      // min above max has no answer; say so instead of picking one.
      for (const r of ['cpu', 'memory', 'network', 'disk'] as const) {
        const lo = a.min?.[r];
        const hi = a.max?.[r];
        if (lo !== undefined && hi !== undefined && lo > hi) ctx.addIssue({ code: 'custom', path: ['apps', i, 'min', r], message: `min ${lo} is above max ${hi}` });
      }
    });
  });

/** A zod path as a reader writes it: apps[1].allocation.memory */

export type PlanFileResult = { readonly ok: true; readonly value: PlanInput } | { readonly ok: false; readonly error: string };

/** Validates an already parsed document. */
export function validatePlanInput(doc: unknown): PlanFileResult {
  const r = planInputSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
    return { ok: false, error: `${formatPath(i.path) || '(top level)'}: ${i.message}${more}` };
  }
  const v = r.data;
  return {
    ok: true,
    value: {
      capacity: v.capacity,
      policy: { ...DEFAULT_POLICY, ...v.policy },
      apps: v.apps.map(({ usage, demand, ...a }) => ({
        ...a,
        demand: demand ?? {
          cpu: usage!.cpu.map((x) => x * a.allocation.cpu),
          mem: usage!.mem.map((x) => x * a.allocation.memory),
          net: usage!.net.map((x) => x * a.allocation.network),
          disk: usage!.disk.map((x) => x * a.allocation.disk),
        },
      })),
    },
  };
}

/** Reads FILE (JSON when it ends in .json, else YAML, which also reads JSON) and validates it. */
export async function readPlanFile(path: string): Promise<PlanFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, error: e.code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${e.message}` };
  }
  if (text.trim() === '') return { ok: false, error: `${path}: empty file` };
  let doc: unknown;
  try {
    doc = path.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return { ok: false, error: `${path}: not valid ${path.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
  const r = validatePlanInput(doc);
  return r.ok ? r : { ok: false, error: `${path}: ${r.error}` };
}
