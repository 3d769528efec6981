// The built `polyarch` command as users run it: `node bin/polyarch.js`, which runs dist/
// (vitest's global setup builds it, as `npm install` does through `prepare`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../src/cli/index.ts';
import { copyFixture } from './support/probe-fixture.ts';
import { startServiceAccountApi } from './support/service-account-api.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const denyKube = join(root, 'test', 'support', 'deny-kube-client.mjs');

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs the built CLI; `nodeArgs` go to node itself (permission model, module hooks). */
function polyarch(args: readonly string[], opts: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [...(opts.nodeArgs ?? []), 'bin/polyarch.js', ...args], { cwd: root, env: opts.env ?? process.env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: child.exitCode, stdout, stderr });
    });
  });
}

// Bounds for the tests that start a dozen processes at once on a shared, loaded machine.
const SPAWNS_TIMEOUT = 180_000;

const scratch = mkdtempSync(join(tmpdir(), 'polyarch-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// No file may be written: the image runs with a read-only root filesystem and no writable
// /tmp. Node's permission model grants reads only (any write throws ERR_ACCESS_DENIED), and
// TMPDIR names a file, as in the issue that found tsx's cache dying there (ENOTDIR).
const notADirectory = join(scratch, 'not-a-directory');
writeFileSync(notADirectory, '');
const readOnly = {
  nodeArgs: ['--experimental-permission', '--allow-fs-read=*', '--no-warnings'],
  env: { ...process.env, TMPDIR: notADirectory, HOME: join(scratch, 'no-home') },
};

describe('the built polyarch command', () => {
  it('prints its version and exits 0, writing nothing', async () => {
    const r = await polyarch(['--version'], readOnly);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toBe(version);
  });

  it('lists every command in --help and exits 0, writing nothing', async () => {
    const r = await polyarch(['--help'], readOnly);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: polyarch');
    for (const name of COMMAND_NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('loads every command from dist/ and prints its help, writing nothing', async () => {
    const results = await Promise.all(COMMAND_NAMES.map((name) => polyarch([name, '--help'], readOnly)));
    COMMAND_NAMES.forEach((name, i) => {
      expect(results[i]?.code, `${name} --help: ${results[i]?.stderr}`).toBe(0);
      expect(results[i]?.stdout, name).toContain(`Usage: polyarch ${name}`);
    });
  }, SPAWNS_TIMEOUT);

  it('exits 2 with one line on stderr naming the flag, for an unknown flag on any command', async () => {
    // The options a command requires are given, or commander names the missing one first.
    const required: Record<string, string[]> = { forecast: ['--input', 'trace.csv'], plan: ['--input', 'plan.json'], certs: ['--service', 'polyarch', '--namespace', 'polyarch-system', '--out', 'certs'] };
    const lines = [['--no-such-flag'], ...COMMAND_NAMES.map((n) => [n, ...(required[n] ?? []), '--no-such-flag'])];
    const results = await Promise.all(lines.map((args) => polyarch(args)));
    lines.forEach((args, i) => {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toContain('--no-such-flag');
    });
  }, SPAWNS_TIMEOUT);

  it('says clearly, in one line, what is wrong with a bad command line', async () => {
    const cases: [string[], number, string][] = [
      [['nope'], 2, "unknown command 'nope'"],
      [['inspect'], 2, "missing required argument 'image'"],
      [['inspect', '::bad::'], 2, 'invalid image reference "::bad::"'],
      [['schedule'], 2, "missing required argument 'files'"],
      [['forecast'], 2, "required option '-i, --input <file>'"],
      [['plan', '--input', join(scratch, 'absent.json')], 1, `no such file: ${join(scratch, 'absent.json')}`],
      [['simulate', '--scenario', join(scratch, 'absent.yaml')], 2, `${join(scratch, 'absent.yaml')}: cannot read`],
      [['probe', '--once', '--interval', '5x'], 2, '--interval: expected a duration'],
      [['serve'], 2, 'give at least one role'],
      [['migrate'], 2, 'give --node NODE, or POD --to PLATFORM'],
      [['certs'], 2, "required option '--service <name>'"],
    ];
    const results = await Promise.all(cases.map(([args]) => polyarch(args)));
    cases.forEach(([args, code, message], i) => {
      const r = results[i]!;
      expect({ args, code: r.code, stderr: r.stderr.trim() }).toEqual({ args, code, stderr: expect.stringContaining(message) });
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    });
  }, SPAWNS_TIMEOUT);

  it('runs the commands that do not talk to a cluster without loading the Kubernetes client', async () => {
    const noKube = { nodeArgs: ['--import', denyKube] };
    // The hook works: serve talks to a cluster, and loading it fails under the hook.
    const serve = await polyarch(['serve', '--help'], noKube);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('the Kubernetes client was loaded');

    const plan = await polyarch(['plan', '--input', join(root, 'examples', 'plan.json'), '--output', 'json'], noKube);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ fits: false, resources: { cpu: { capacity: 64 } } });
    const light = ['inspect', 'schedule', 'simulate', 'forecast', 'certs'];
    const helps = await Promise.all(light.map((name) => polyarch([name, '--help'], noKube)));
    light.forEach((name, i) => expect(helps[i]?.code, `${name}: ${helps[i]?.stderr}`).toBe(0));
    // The probe without --kube (the pods from a file, or none) is a whole sample run.
    const fx = copyFixture('systemd');
    try {
      const probe = await polyarch(['probe', '--once', '--cgroup-root', fx.root, '--proc-root', fx.procRoot, '--interval', '100ms', '--node-name', 'node-a', '--output', 'json'], noKube);
      expect(probe.code, probe.stderr).toBe(0);
      expect(JSON.parse(probe.stdout)).toMatchObject({ node: 'node-a', cgroup: { version: 'v2' } });
    } finally {
      fx.dispose();
    }
  }, SPAWNS_TIMEOUT);

  it('probes with --kube in a pod (its service account) without loading the Kubernetes client', async () => {
    const api = await startServiceAccountApi(join(scratch, 'serviceaccount'), 'probe-token');
    const fx = copyFixture('systemd');
    try {
      const r = await polyarch(['probe', '--once', '--kube', '--cgroup-root', fx.root, '--proc-root', fx.procRoot, '--interval', '100ms', '--node-name', 'node-a', '--output', 'json'], { nodeArgs: ['--import', denyKube], env: { ...process.env, ...api.env } });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ node: 'node-a', podInfo: { ok: true, source: `kubernetes API ${api.server} (pods on node node-a)` } });
      expect(api.requests[0]).toBe('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=0 Bearer probe-token');
    } finally {
      fx.dispose();
      await api.close();
    }
  }, SPAWNS_TIMEOUT);
});
