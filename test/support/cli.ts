/**
 * The `polyarch` command for tests: as a process (bin/polyarch.js, what a user runs) or
 * in-process (no tsx start-up: for the many error paths), with exit code and output.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { vi } from 'vitest';
import { run } from '../../src/cli/index.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'polyarch.js');

/** `node bin/polyarch.js ARGS...` in the repository's root. */
export function polyarch(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The same program in this process, stdout and stderr captured. */
export async function inProcess(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await run(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
