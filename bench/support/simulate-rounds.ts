/**
 * The autoscaler's round alone, from outside: runs polyarch on `npm run bench simulate`'s
 * generated scenario (bench/simulate.bench.ts, seeded) for TO simulated minutes and prints
 * the CPU of the minutes with an autoscaler round (every 5th, the scenario's policy interval)
 * against the mean of the minutes without one, minutes FROM..TO-1:
 *
 *   node --import tsx bench/support/simulate-rounds.ts 1000 20000 20 60
 *
 * `roundCost` (the difference) is what one round costs; `rounds` each round minute's CPU.
 */
import { generateScenario } from '../simulate.bench.ts';
import { runStrategy } from '../../src/cli/simulate/runner.ts';
import { SimRegistry } from '../../src/sim/registry.ts';
import { UsageModel } from '../../src/sim/usage.ts';
import { createRng } from '../../src/core/rng.ts';
import { figuresOf } from '../../src/sim/summary.ts';

const [nodes, pods, from, to] = [2, 3, 4, 5].map((i) => Number(process.argv[i]));
if (!(nodes! > 0 && pods! > 0 && from! >= 1 && to! > from!)) {
  process.stderr.write('usage: simulate-rounds.ts NODES PODS FROM TO (simulated minutes)\n');
  process.exit(2);
}
const cpuS = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const scenario = generateScenario(nodes!, pods!, to!);
const shared = { registry: new SimRegistry(scenario.images), usage: new UsageModel(scenario.usage, scenario.durationMinutes, createRng(1).fork('usage')) };
let last = cpuS();
const round: number[] = [];
const other: number[] = [];
const result = await runStrategy(scenario, {
  seed: 1, strategy: 'polyarch', ...shared,
  onProgress: (m) => {
    const now = cpuS();
    if (m >= from!) (m % 5 === 0 ? round : other).push(now - last);
    last = now;
  },
});
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log(JSON.stringify({
  nodes, pods, from, to,
  roundMinuteCpu: +mean(round).toFixed(3), otherMinuteCpu: +mean(other).toFixed(3), roundCost: +(mean(round) - mean(other)).toFixed(3),
  rounds: round.map((x) => +x.toFixed(2)), resizes: figuresOf(result).resizes,
}));
