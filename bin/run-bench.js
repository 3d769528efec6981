#!/usr/bin/env node
// `npm run bench [name...]`: runs every bench/*.bench.ts (or the named ones) in turn.
import { register } from 'tsx/esm/api';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

register();
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
for (const f of files) {
  console.log(`\n## ${f}`);
  const mod = await import(pathToFileURL(join(dir, f)).href);
  if (typeof mod.default === 'function') await mod.default();
}
