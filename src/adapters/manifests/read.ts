/** Reads manifest files (I/O) and parses them into cluster objects. */

import { readFile } from 'node:fs/promises';
import { emptyManifests, parseManifests, type ManifestsResult } from './parse.ts';

export async function readManifests(files: readonly string[]): Promise<ManifestsResult> {
  const into = emptyManifests();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, error: `${file}: cannot read${code ? ` (${code})` : ''}` };
    }
    const r = parseManifests(text, file, into);
    if (!r.ok) return r;
  }
  return { ok: true, value: into };
}
