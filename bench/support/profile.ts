/**
 * BENCH_CPU_PROF=DIR: a CPU profile (node:inspector) of one measured window, written to
 * DIR/NAME-PID.cpuprofile (open it in Chrome DevTools or VS Code), so a profile shows the
 * phase measured rather than start-up and set-up. Without the variable it costs nothing.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Starts profiling this process; the returned function stops and writes the profile. */
export async function profileWindow(name: string): Promise<() => Promise<void>> {
  const dir = process.env['BENCH_CPU_PROF'];
  if (!dir) return () => Promise.resolve();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}
