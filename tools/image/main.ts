/**
 * `npm run image [-- --out DIR] [--push REGISTRY/REPOSITORY:TAG] [--platform P]...
 * [--build-dir DIR] [--cache-dir DIR] [--no-layer-cache] [--insecure-registry HOST]`:
 * builds polyarch's multi-architecture image as an OCI layout (build.ts) and pushes it.
 * Prints the image index digest (and the pushed reference) on stdout.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildImage } from './build.ts';
import { pushLayout } from './oci.ts';
import { PLATFORMS, platformName } from './platforms.ts';

const root = resolve(import.meta.dirname, '..', '..');

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: join(root, 'build', 'oci') },
      push: { type: 'string' },
      platform: { type: 'string', multiple: true },
      'build-dir': { type: 'string', default: join(root, 'dist') },
      // Outside the work tree, so fresh clones (CI) and `npm ci` keep it.
      'cache-dir': { type: 'string', default: join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'polyarch-image') },
      'no-layer-cache': { type: 'boolean', default: false },
      'insecure-registry': { type: 'string', multiple: true },
    },
    strict: true,
  });
  const epochText = process.env['SOURCE_DATE_EPOCH'] ?? '0';
  if (!/^\d+$/.test(epochText)) throw new Error(`SOURCE_DATE_EPOCH: "${epochText}" is not a number of seconds`);
  const wanted = values.platform ?? [];
  const platforms = wanted.length === 0 ? PLATFORMS : wanted.map((w) => {
    const p = PLATFORMS.find((x) => platformName(x) === w);
    if (!p) throw new Error(`--platform: "${w}" is not one of ${PLATFORMS.map(platformName).join(', ')}`);
    return p;
  });
  const pkg = (await import(join(root, 'package.json'), { with: { type: 'json' } })) as { default: { version: string } };
  const image = await buildImage({
    root,
    buildDir: resolve(values['build-dir']),
    outDir: resolve(values.out),
    cacheDir: resolve(values['cache-dir']),
    epoch: Number(epochText),
    tag: pkg.default.version,
    platforms,
    layerCache: !values['no-layer-cache'],
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${image.index.digest}\n`);
  if (values.push) {
    const pushed = await pushLayout(image.layout, image.index, values.push, { insecureRegistries: values['insecure-registry'] ?? [] });
    process.stdout.write(`${pushed}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`npm run image: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
