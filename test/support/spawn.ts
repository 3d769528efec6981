/**
 * Starting a process in a test: with an 'error' listener, so a binary that is missing or
 * cannot be executed fails the test at once, naming the command, instead of surfacing as
 * an unhandled 'error' event after the test's waits have run out.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Spawned {
  readonly proc: ChildProcess;
  /** Why the process could not be started, once known (to throw from a wait's condition). */
  failure(): Error | undefined;
  /** Resolves with the exit code (null when killed by a signal); rejects when it could not start. */
  readonly exited: Promise<number | null>;
}

export function spawnChecked(command: string, args: readonly string[], options: SpawnOptions = {}): Spawned {
  const proc = spawn(command, args, options);
  let failed: Error | undefined;
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.once('error', (err) => {
      failed = new Error(`could not run ${command}: ${err.message}`);
      reject(failed);
    });
    proc.once('exit', (code) => resolve(code));
  });
  // Seen by whoever awaits `exited`; not an unhandled rejection when nobody does.
  exited.catch(() => undefined);
  return { proc, failure: () => failed, exited };
}
