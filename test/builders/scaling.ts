/**
 * Scaling-plan inputs for the tests of src/core/scaling: a policy whose forecast of a flat
 * series is its last value (window 2, horizon 1) and whose desired allocation is that
 * forecast x 1.25 (the floor alone: errorQuantile 0), room in every resource, and an
 * application whose memory, network and disk are used at 80 % (desired = allocation there),
 * so only cpu acts unless a test says otherwise.
 */
import { plan } from '../../src/core/scaling/plan.ts';
import { DEFAULT_POLICY, type Action, type AppInput, type Plan, type PlanInput, type PlanPolicy, type Resource } from '../../src/core/scaling/types.ts';

export const Gi = 2 ** 30;
export const flat = (v: number, n = 20): number[] => new Array<number>(n).fill(v);
export const scalingPolicy = { ...DEFAULT_POLICY, window: 2, horizon: 1, headroom: 0.25, errorQuantile: 0, youngMinutes: 10, compactStep: 0.25 };
export const roomy = { cpu: 1000, memory: 1024 * Gi, network: 1e11, disk: 1e11 };

export const scalingApp = (name: string, cpu: number, cpuUsage: number[], extra: Partial<AppInput> = {}): AppInput => ({
  name, priority: 100, system: false, runningMinutes: 30,
  allocation: { cpu, memory: 8 * Gi, network: 1e9, disk: 2e8 },
  demand: { cpu: cpuUsage, mem: flat(6.4 * Gi), net: flat(0.8e9), disk: flat(1.6e8) },
  ...extra,
});

/** The plan of the application named `name`; throws naming it when the plan has none. */
export const appOf = (p: Plan, name: string): Plan['apps'][number] => {
  const a = p.apps.find((x) => x.name === name);
  if (!a) throw new Error(`no application ${name} in the plan`);
  return a;
};

/** The actions of one resource (cpu unless said) of application `name`. */
export const actionsOf = (p: Plan, name: string, r: Resource = 'cpu'): Action[] => appOf(p, name).actions.filter((x) => x.resource === r);

/** plan() with `roomy` capacity and `scalingPolicy`, each overridden where given. */
export const runPlan = (capacity: Partial<PlanInput['capacity']>, apps: AppInput[], extra: Partial<PlanPolicy> = {}): Plan =>
  plan({ capacity: { ...roomy, ...capacity }, policy: { ...scalingPolicy, ...extra }, apps });

/** 4 cpu, 1 core used for the last k minutes after 2: desired 1.25, a surplus of 2.75 idle k minutes. */
export const idleApp = (name: string, k: number, extra: Partial<AppInput> = {}): AppInput => scalingApp(name, 4, [...flat(2, 20 - k), ...flat(1, k)], extra);
