/**
 * Registry lookups per second against a loopback docker-registry: polyarch cold (a new
 * resolver each time: ping, connection, every fetch), uncached (a reused resolver with
 * the result cache off; its digest and negative caches and tokens still on) and cached,
 * side by side with `skopeo inspect --raw` (Debian's skopeo, one process per lookup) on
 * the same images, printed as ratios to skopeo. skopeo pays a process start per lookup,
 * so the `polyarch inspect` command (also a process per lookup) is measured too.
 * Without skopeo installed, the ratios are against polyarch's cold lookup instead.
 * Short by default; BENCH_FULL=1 for longer runs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { registryLookup, type RegistryLookupOptions } from '../test/support/registry-lookup.ts';
import { startRegistry } from '../test/support/registry.ts';

const run = promisify(execFile);
const FULL = process.env['BENCH_FULL'] === '1';
const SECONDS = FULL ? 5 : 1.5;
const SKOPEO_RUNS = FULL ? 40 : 8;

async function perSecond(fn: () => Promise<void>, seconds = SECONDS): Promise<number> {
  await fn(); // warm-up (JIT, first connection)
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function processesPerSecond(command: string, args: string[], runs: number): Promise<number> {
  const once = async (): Promise<void> => {
    await run(command, args);
  };
  await once();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await once();
  return runs / ((performance.now() - start) / 1000);
}

export default async function bench(): Promise<void> {
  const reg = await startRegistry();
  try {
    const amd = await reg.pushImage('team/app', '1.4-amd64', 'linux/amd64');
    const arm = await reg.pushImage('team/app', '1.4-arm64', 'linux/arm64/v8');
    await reg.pushIndex('team/app', '1.4', [amd, arm], { attestation: true });
    await reg.pushImage('team/single', '2.0', 'linux/amd64', { format: 'docker' });
    const images = [`${reg.host}/team/app:1.4`, `${reg.host}/team/single:2.0`];
    const variants: [string, RegistryLookupOptions][] = [
      ['conventions on', {}],
      ['conventions off', { conventions: [] }],
    ];
    console.log(`loopback docker-registry ${reg.host}; ${FULL ? 'full' : 'short'} run (${SECONDS}s per polyarch mode, ${SKOPEO_RUNS} skopeo runs)`);
    const haveSkopeo = await run('skopeo', ['--version']).then(() => true, () => false);
    if (!haveSkopeo) console.log('skopeo is not installed (apt-get install skopeo): ratios are against polyarch cold (conventions on)');
    console.log(`image | mode | lookups/s | ratio to ${haveSkopeo ? 'skopeo inspect --raw' : 'polyarch cold (conventions on)'}`);
    for (const image of images) {
      let skopeo = 0;
      if (haveSkopeo) {
        skopeo = await processesPerSecond('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${image}`], SKOPEO_RUNS);
        console.log(`${image} | skopeo inspect --raw | ${skopeo.toFixed(1)} | 1.00`);
      } else {
        skopeo = await perSecond(async () => {
          const r = registryLookup();
          await r.resolve(image);
          await r.close();
        });
      }
      const cli = await processesPerSecond(process.execPath, ['bin/polyarch.js', 'inspect', image, '--output', 'json'], Math.max(3, SKOPEO_RUNS / 4));
      console.log(`${image} | polyarch inspect (process) | ${cli.toFixed(1)} | ${(cli / skopeo).toFixed(2)}`);
      for (const [label, options] of variants) {
        const cold = await perSecond(async () => {
          const r = registryLookup(options);
          const got = await r.resolve(image);
          await r.close();
          if (!got.ok) throw new Error(got.error.message);
        });
        const reused = registryLookup({ ...options, cacheTtlMs: 0 });
        const uncached = await perSecond(async () => {
          const got = await reused.resolve(image);
          if (!got.ok) throw new Error(got.error.message);
        });
        await reused.close();
        const warm = registryLookup(options);
        const cached = await perSecond(async () => {
          const got = await warm.resolve(image);
          if (!got.ok) throw new Error(got.error.message);
        }, Math.min(SECONDS, 1));
        await warm.close();
        for (const [mode, rate] of [['cold', cold], ['uncached', uncached], ['cached', cached]] as const) {
          console.log(`${image} | polyarch ${mode} (${label}) | ${rate.toFixed(1)} | ${(rate / skopeo).toFixed(2)}`);
        }
      }
    }
  } finally {
    await reg.stop();
  }
}
