// Issue 15 item 1: `polyarch serve`, as a process, with a broken configuration stops
// non-zero with one line on stderr naming the cause (as kube-apiserver and
// controller-runtime do), for every role: a missing file, a certificate pair that does
// not match, a port in use, an unreachable API server. Nothing keeps running silently.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/index.ts';
import { BIN, inProcess } from './support/cli.ts';

let dir: string;
let busy: Server;
let busyPort: number;
let deadPort: number;
let unreachable: string;

const listen = (): Promise<Server> => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
});
const portOf = (s: Server): number => (s.address() as { port: number }).port;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyarch-startup-'));
  // Two certificate sets: a cert of one with the key of the other is a mismatched pair.
  for (const set of ['a', 'b']) expect(await run(['certs', '--service', 'polyarch-admission', '--namespace', 'polyarch-system', '--out', join(dir, set), '--output', 'json'])).toBe(0);
  busy = await listen();
  busyPort = portOf(busy);
  const closed = await listen();
  deadPort = portOf(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  unreachable = join(dir, 'kubeconfig');
  await writeFile(unreachable, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${deadPort}', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`);
});
afterAll(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `polyarch serve ARGS` until it exits (the test's timeout bounds the wait). A case that
 * names no --admission-listen gets an ephemeral loopback port: the default (:8443 on every
 * interface) could be held by another process, and the failure asserted would then be that one.
 */
function serve(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const admission = args.includes('--admission-listen') ? [] : ['--admission-listen', '127.0.0.1:0'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args, ...admission, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const ROLES = ['scheduler', 'migrator', 'autoscaler', 'extender', 'webhook', 'exec-format'] as const;
const TLS_ROLES = ['extender', 'webhook'] as const;
const tlsFlags = (cert: string, key: string): string[] => ['--tls-cert-file', cert, '--tls-private-key-file', key, '--admission-listen', '127.0.0.1:0'];

interface Case {
  readonly name: string;
  readonly roles: readonly string[];
  readonly args: () => string[];
  readonly cause: () => RegExp;
}

const CASES: Case[] = [
  {
    name: 'a missing kubeconfig file',
    roles: ROLES,
    args: () => ['--kubeconfig', '/nonexistent/kubeconfig', '--listen', '127.0.0.1:0'],
    cause: () => /^polyarch: kubeconfig: .*ENOENT.*\/nonexistent\/kubeconfig/,
  },
  {
    name: 'its --listen port in use',
    roles: ROLES,
    args: () => ['--kubeconfig', unreachable, '--listen', `127.0.0.1:${busyPort}`],
    cause: () => new RegExp(`^polyarch: --listen 127\\.0\\.0\\.1:${busyPort}: address already in use \\(EADDRINUSE\\)$`),
  },
  {
    name: 'an unreachable API server',
    roles: ROLES,
    args: () => ['--kubeconfig', unreachable, '--listen', '127.0.0.1:0'],
    cause: () => new RegExp(`^polyarch: API server https://127\\.0\\.0\\.1:${deadPort} unreachable \\(.*ECONNREFUSED`),
  },
  {
    name: 'a missing certificate file',
    roles: TLS_ROLES,
    args: () => ['--kubeconfig', unreachable, '--listen', '127.0.0.1:0', ...tlsFlags('/nonexistent/tls.crt', '/nonexistent/tls.key')],
    cause: () => /^polyarch: --tls-cert-file \/nonexistent\/tls\.crt: cannot read \(ENOENT\)$/,
  },
  {
    name: 'a missing private key file',
    roles: TLS_ROLES,
    args: () => ['--kubeconfig', unreachable, '--listen', '127.0.0.1:0', ...tlsFlags(join(dir, 'a', 'tls.crt'), join(dir, 'a', 'nope.key'))],
    cause: () => /^polyarch: --tls-private-key-file .*nope\.key: cannot read \(ENOENT\)$/,
  },
  {
    name: 'a certificate and key that do not match',
    roles: TLS_ROLES,
    args: () => ['--kubeconfig', unreachable, '--listen', '127.0.0.1:0', ...tlsFlags(join(dir, 'a', 'tls.crt'), join(dir, 'b', 'tls.key'))],
    cause: () => /^polyarch: --tls-cert-file .*a\/tls\.crt and --tls-private-key-file .*b\/tls\.key do not load as a pair: .*key values mismatch/,
  },
  {
    name: 'its --admission-listen port in use',
    roles: TLS_ROLES,
    args: () => ['--kubeconfig', unreachable, '--listen', '127.0.0.1:0', ...tlsFlags(join(dir, 'a', 'tls.crt'), join(dir, 'a', 'tls.key')).slice(0, -2), '--admission-listen', `127.0.0.1:${busyPort}`],
    cause: () => new RegExp(`^polyarch: --admission-listen 127\\.0\\.0\\.1:${busyPort}: address already in use \\(EADDRINUSE\\)$`),
  },
];

describe.concurrent('polyarch serve stops at start-up, naming the cause, when its configuration is broken', () => {
  for (const c of CASES) {
    for (const role of c.roles) {
      it(`--${role} with ${c.name}`, async () => {
        const r = await serve([`--${role}`, ...c.args()]);
        expect(r.code).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(c.cause());
      }, 120_000);
    }
  }
});

describe('flag errors name the flag', () => {
  it('--exec-format-interval soon is reported as an --exec-format-interval error (exit 2)', async () => {
    const r = await inProcess('serve', '--exec-format', '--exec-format-interval', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^polyarch: --exec-format-interval: "soon" is not a duration/);
  });

  it('--admission-listen 127.0.0.1:99999 is reported as an --admission-listen error (exit 2)', async () => {
    const r = await inProcess('serve', '--webhook', '--admission-listen', '127.0.0.1:99999');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^polyarch: --admission-listen: "127\.0\.0\.1:99999" is not HOST:PORT/);
  });
});
