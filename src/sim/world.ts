/**
 * One simulated cluster built from a scenario: the in-memory API (SimCluster), the
 * registry, the kubelets, the controllers and the clock, wired together. The runner
 * (run.ts) drives it minute by minute with one of the strategies it compares.
 */
import { cpuMilli } from '../core/units/amounts.ts';
import type { Node, Pod } from '../core/k8s/types.ts';
import { SimCluster } from './cluster.ts';
import { SimClock } from './sim-clock.ts';
import { SimRegistry } from './registry.ts';
import { SimKubelet } from './kubelet.ts';
import { SimControllers, type SimControllerOptions } from './controllers.ts';
import { UsageModel } from './usage.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { Scenario } from './scenario/load.ts';

export interface World {
  readonly scenario: Scenario;
  readonly clock: SimClock;
  readonly cluster: SimCluster;
  readonly registry: SimRegistry;
  readonly kubelet: SimKubelet;
  readonly controllers: SimControllers;
  readonly usage: UsageModel;
  readonly rng: Rng;
}

export interface WorldOptions {
  readonly seed: number;
  readonly controllers: SimControllerOptions;
  /** Changes each Node before it is added (none by default). */
  readonly mutateNode?: (node: Node) => Node;
  /** Changes each bare Pod of the scenario before it is created. */
  readonly mutatePod?: (pod: Pod) => Pod;
  /** Shared between runs of one scenario: the registry is pure data. */
  readonly registry?: SimRegistry;
  readonly usage?: UsageModel;
}

export async function buildWorld(scenario: Scenario, opts: WorldOptions): Promise<World> {
  const rng = createRng(opts.seed);
  const clock = new SimClock(scenario.startMs);
  // The scenario's evictionTimeout is the API server's default toleration of not-ready and unreachable nodes.
  const cluster = new SimCluster(clock, scenario.startMs, { defaultTolerationSeconds: scenario.policy.evictionTimeout * 60 });
  const registry = opts.registry ?? new SimRegistry(scenario.images);
  const usage = opts.usage ?? new UsageModel(scenario.usage, scenario.durationMinutes, createRng(opts.seed).fork('usage'));
  const kubelet = new SimKubelet(cluster, registry, usage, scenario.startMs, scenario.policy.startup, scenario.policy.startupCpu === undefined ? undefined : cpuMilli(scenario.policy.startupCpu));
  const controllers = new SimControllers(cluster, opts.controllers);
  for (const pc of scenario.priorityClasses) cluster.addPriorityClass(pc);
  for (const n of scenario.nodes) {
    const node = opts.mutateNode ? opts.mutateNode(n) : n;
    cluster.addNode({ ...node, status: { ...node.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } });
  }
  for (const p of scenario.pdbs) cluster.addPdb(p);
  for (const d of scenario.deployments) {
    const key = `${d.metadata.namespace ?? 'default'}/${d.metadata.name ?? ''}`;
    if (scenario.deferred.has(key)) continue;
    cluster.addDeployment(d);
    controllers.activate(key);
  }
  for (const s of scenario.statefulSets) {
    const key = `${s.metadata.namespace ?? 'default'}/${s.metadata.name ?? ''}`;
    if (scenario.deferred.has(key)) continue;
    cluster.addStatefulSet(s);
    controllers.activate(key);
  }
  for (const p of scenario.pods) {
    let pod: Pod = { ...p, spec: { ...p.spec, schedulerName: opts.controllers.schedulerName } };
    if (opts.mutatePod) pod = opts.mutatePod(pod);
    await cluster.createPod(pod);
  }
  return { scenario, clock, cluster, registry, kubelet, controllers, usage, rng };
}

/** Adds a workload held back for a `deploy` event and lets its controller start it. */
export function deployWorkload(world: World, key: string): boolean {
  const d = world.scenario.deployments.find((x) => `${x.metadata.namespace ?? 'default'}/${x.metadata.name ?? ''}` === key);
  if (d) {
    world.cluster.addDeployment(d);
    world.controllers.activate(key);
    return true;
  }
  const s = world.scenario.statefulSets.find((x) => `${x.metadata.namespace ?? 'default'}/${x.metadata.name ?? ''}` === key);
  if (s) {
    world.cluster.addStatefulSet(s);
    world.controllers.activate(key);
    return true;
  }
  return false;
}
