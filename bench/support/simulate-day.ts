/**
 * One strategy of `npm run bench simulate`'s generated scenario, alone in its process, so
 * that `/usr/bin/time -v` gives its CPU time and maximum RSS (the full day of issue 16):
 *
 *   /usr/bin/time -v node --import tsx bench/support/simulate-day.ts 5000 100000 24 polyarch
 *   /usr/bin/time -v node --import tsx bench/support/simulate-day.ts 5000 100000 24 kube-scheduler
 *
 * Arguments: nodes, pods, simulated hours, strategy. It runs `runStrategy`, what `polyarch
 * simulate` runs for each strategy, on the scenario bench/simulate.bench.ts generates (seeded:
 * the same every time). Prints progress every simulated hour on stderr (simulated minute, CPU
 * seconds so far, RSS) and one JSON line of figures at the end.
 *
 * SIM_STRETCH=FROM-TO (simulated minutes) also prints the CPU seconds of minutes FROM..TO-1 (a
 * later stretch, the first minute's placement of every pod left out), the mean CPU of its minutes
 * with an autoscaler round and of the others, and, with SIM_PROFILE=FILE,
 * writes the inspector's CPU profile of that stretch (open it in Chrome DevTools).
 */
import { generateScenario } from '../simulate.bench.ts';
import { runStrategy } from '../../src/cli/simulate/runner.ts';
import { SimRegistry } from '../../src/sim/registry.ts';
import { UsageModel } from '../../src/sim/usage.ts';
import { createRng } from '../../src/core/rng.ts';
import { figuresOf } from '../../src/sim/summary.ts';
import { ALL_STRATEGIES } from '../../src/cli/simulate/simulate.ts';
import type { Strategy } from '../../src/sim/results.ts';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const [nodes, pods, hours] = [2, 3, 4].map((i) => Number(process.argv[i]));
const strategy = process.argv[5] as Strategy;
if (!(nodes! > 0 && pods! > 0 && hours! > 0) || !ALL_STRATEGIES.includes(strategy)) {
  process.stderr.write(`usage: simulate-day.ts NODES PODS HOURS STRATEGY (one of ${ALL_STRATEGIES.join(', ')})\n`);
  process.exit(2);
}
const mean = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const cpuS = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const t0 = performance.now();
const scenario = generateScenario(nodes!, pods!, Math.round(hours! * 60));
const shared = { registry: new SimRegistry(scenario.images), usage: new UsageModel(scenario.usage, scenario.durationMinutes, createRng(1).fork('usage')) };
const stretch = /^(\d+)-(\d+)$/.exec(process.env.SIM_STRETCH ?? '');
const [from, to] = stretch ? [Number(stretch[1]), Number(stretch[2])] : [-1, -1];
const profileFile = process.env.SIM_PROFILE;
const session = stretch && profileFile ? new Session() : undefined;
let stretchCpu0 = 0;
let stretchCpu = Number.NaN;
// CPU of each minute of the stretch, apart for the minutes with an autoscaler round and the others.
const perMinute = { round: [] as number[], other: [] as number[] };
let minuteCpu0 = 0;
const cpu0 = cpuS();
process.stderr.write(`scenario generated: ${cpu0.toFixed(1)} s cpu, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB\n`);
const result = await runStrategy(scenario, {
  seed: 1, strategy, ...shared,
  onProgress: (m) => {
    if (m >= from && m < to) {
      const now = cpuS();
      (m > 0 && m % scenario.policy.interval === 0 ? perMinute.round : perMinute.other).push(now - minuteCpu0);
    }
    minuteCpu0 = cpuS();
    // onProgress runs after minute m: minute FROM starts after m = FROM - 1.
    if (m === from - 1) {
      if (session) {
        // The in-process session answers synchronously (the callbacks run before post returns).
        session.connect();
        session.post('Profiler.enable');
        session.post('Profiler.start');
      }
      stretchCpu0 = cpuS();
    }
    if (m === to - 1) {
      stretchCpu = cpuS() - stretchCpu0;
      if (session) {
        session.post('Profiler.stop', (err, r) => {
          if (err) throw err;
          writeFileSync(profileFile!, JSON.stringify(r.profile));
        });
        session.disconnect();
      }
      process.stderr.write(`minutes ${from}-${to - 1}: ${stretchCpu.toFixed(2)} s cpu; a minute with an autoscaler round ${mean(perMinute.round).toFixed(3)} s, without ${mean(perMinute.other).toFixed(3)} s (means)\n`);
    }
    if (m % 60 === 0 || m === 1) process.stderr.write(`minute ${m}/${scenario.durationMinutes}: ${cpuS().toFixed(1)} s cpu, ${((performance.now() - t0) / 1000).toFixed(0)} s wall, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB\n`);
  },
});
console.log(JSON.stringify({
  scenario: scenario.name, minutes: scenario.durationMinutes, strategy,
  cpuSeconds: +cpuS().toFixed(1), runCpuSeconds: +(cpuS() - cpu0).toFixed(1), wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), ...(stretch ? { stretch: { from, to, cpuSeconds: +stretchCpu.toFixed(2), roundMinuteCpuSeconds: +mean(perMinute.round).toFixed(3), otherMinuteCpuSeconds: +mean(perMinute.other).toFixed(3) } } : {}), phaseMs: result.phaseMs, figures: figuresOf(result),
}));
