/**
 * Brings dist/ up to date with the sources (`tsc -b tsconfig.build.json`, what `npm run build`
 * runs): `tsc -b` compares the inputs with dist/.tsbuildinfo and rebuilds only what changed (a
 * fraction of a second when nothing did). Vitest's global setup, since the tests that spawn
 * `bin/polyarch.js` run the built CLI (dist/) as users do; the start-up bench calls it too.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export function buildCli(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

export default buildCli;
