// The two helpers every waiting or spawning test relies on (test/support/wait.ts, spawn.ts).
import { describe, expect, it } from 'vitest';
import { spawnChecked } from './support/spawn.ts';
import { waitFor, WaitTimeout } from './support/wait.ts';

describe('waitFor', () => {
  it('returns the first value that is not undefined or false', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? `look ${n}` : n === 1 ? undefined : false), { what: 'the third look', intervalMs: 1 })).toBe('look 3');
  });

  it('gives up at its own bound, naming what it waited for and the state last seen', async () => {
    const err = await waitFor(() => false, { what: 'a thing that never happens', timeoutMs: 30, intervalMs: 5, state: () => ({ seen: 'nothing' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toBe('timed out after 30 ms waiting for a thing that never happens; last seen: {"seen":"nothing"}');
  });

  it('ends at once when `failure` reports an error', async () => {
    const err = await waitFor(() => false, { what: 'readiness', timeoutMs: 60_000, failure: () => new Error('could not run x') }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('could not run x (while waiting for readiness)');
  });
});

describe('spawnChecked', () => {
  it('a missing binary fails at once, naming it', async () => {
    const s = spawnChecked('/nonexistent/polyarch-test-binary', ['--version']);
    await expect(s.exited).rejects.toThrow('could not run /nonexistent/polyarch-test-binary: spawn /nonexistent/polyarch-test-binary ENOENT');
    expect(s.failure()?.message).toContain('ENOENT');
  });

  it('a binary that runs resolves with its exit code', async () => {
    const s = spawnChecked(process.execPath, ['-e', 'process.exit(3)']);
    expect(await s.exited).toBe(3);
    expect(s.failure()).toBeUndefined();
  });
});
