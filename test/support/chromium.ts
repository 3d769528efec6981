/**
 * Debian's chromium driven over the DevTools protocol (no extra dependency): start it
 * headless on a free port, open a page, collect console errors and exceptions, evaluate
 * expressions. Only loopback traffic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';

export interface PageResult {
  readonly errors: string[];
  evaluate<T>(expression: string): Promise<T>;
  close(): Promise<void>;
}

export async function openPage(url: string, timeoutMs = 30_000): Promise<PageResult> {
  const profile = mkdtempSync(join(tmpdir(), 'polyarch-chromium-'));
  // Its own process group (detached), so cleanup can stop Chromium's zygote, renderer
  // and utility children too: they keep writing into the profile after the browser
  // process itself exits, which made removing the profile fail with ENOTEMPTY.
  const proc: ChildProcess = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  proc.once('error', () => undefined); // reported by the start-up wait below
  const cleanup = async (): Promise<void> => {
    await killGroup(proc);
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      // A leftover temporary directory is not a test failure.
      process.emitWarning(`could not remove Chromium profile ${profile}: ${(err as Error).message}`);
    }
  };
  try {
    const browserWs = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`chromium did not start in ${timeoutMs} ms: ${buf.slice(-500)}`)), timeoutMs);
      proc.stderr?.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${buf.slice(-500)}`)));
      proc.once('error', (err) => reject(new Error(`chromium could not be started (${CHROMIUM}): ${err.message}`)));
    });
    const port = new URL(browserWs).port;
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
    const target = list.find((t) => t.type === 'page');
    if (!target) throw new Error('no page target');
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('DevTools websocket failed')));
    });
    let id = 0;
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const errors: string[] = [];
    let loaded: () => void = () => undefined;
    const loadedP = new Promise<void>((r) => (loaded = r));
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { message: string } };
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
        return;
      }
      if (msg.method === 'Runtime.consoleAPICalled' && (msg.params?.type === 'error' || msg.params?.type === 'assert')) {
        errors.push(`console.${String(msg.params.type)}: ${JSON.stringify(msg.params.args)}`);
      } else if (msg.method === 'Runtime.exceptionThrown') {
        errors.push(`exception: ${JSON.stringify(msg.params?.exceptionDetails)}`);
      } else if (msg.method === 'Log.entryAdded') {
        const entry = msg.params?.entry as { level?: string; text?: string; url?: string } | undefined;
        if (entry?.level === 'error') errors.push(`log: ${entry.text ?? ''} ${entry.url ?? ''}`);
      } else if (msg.method === 'Page.loadEventFired') loaded();
    });
    const send = (method: string, params: Record<string, unknown> = {}): Promise<unknown> => {
      const n = ++id;
      ws.send(JSON.stringify({ id: n, method, params }));
      return new Promise((resolve, reject) => pending.set(n, { resolve, reject }));
    };
    await send('Runtime.enable');
    await send('Log.enable');
    await send('Page.enable');
    await send('Page.navigate', { url });
    await Promise.race([loadedP, new Promise((_, reject) => setTimeout(() => reject(new Error('page did not load')), timeoutMs))]);
    // A slow start can deliver about:blank's own load event after Page.enable: wait until
    // the page we asked for is the one loaded, so its console errors are already counted.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = (await send('Runtime.evaluate', { expression: 'location.href + " " + document.readyState', returnByValue: true })) as { result: { value?: string } };
      if (r.result.value === `${url} complete`) break;
      if (Date.now() > deadline) throw new Error(`page did not load: still at ${r.result.value ?? '?'}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    return {
      errors,
      evaluate: async <T>(expression: string): Promise<T> => {
        const r = (await send('Runtime.evaluate', { expression, returnByValue: true })) as { result: { value: T }; exceptionDetails?: unknown };
        if (r.exceptionDetails) throw new Error(`evaluate failed: ${JSON.stringify(r.exceptionDetails)}`);
        return r.result.value;
      },
      close: async () => {
        ws.close();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Is any process of the group `pgid` still running? Read from /proc so that zombies
 * (children re-parented to an init that may not reap them) do not count as running.
 */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/**
 * Stop every process of the child's group and wait until none is left: SIGTERM, then
 * SIGKILL after 3 s. Waits on the condition (the group is empty), bounded at 10 s.
 */
async function killGroup(proc: ChildProcess): Promise<void> {
  const pgid = proc.pid;
  if (pgid === undefined) return;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const start = Date.now();
  let killed = false;
  while (groupAlive(pgid) || proc.exitCode === null && proc.signalCode === null) {
    const waited = Date.now() - start;
    if (!killed && waited > 3000) {
      signal('SIGKILL');
      killed = true;
    }
    if (waited > 10_000) {
      process.emitWarning(`Chromium process group ${pgid} still alive after 10 s`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
