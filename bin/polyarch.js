#!/usr/bin/env node
// The `polyarch` command: runs the built JavaScript in dist/ (`npm run build`, which
// `npm install` and `npm ci` run through the `prepare` script). No compiler at run time,
// so it starts fast and writes nothing (a read-only root filesystem is fine).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('polyarch: dist/main.js is missing: run `npm run build` (npm install and npm ci run it)\n');
  process.exit(1);
}
await import(main.href);
