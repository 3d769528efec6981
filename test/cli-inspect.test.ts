// `polyarch inspect` end to end: the real command (node bin/polyarch.js) against a real
// docker-registry. The spawned invocations run concurrently in beforeAll; each test
// checks one. A few more cases run the same CLI in-process (cheaper than a process).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcess } from './support/cli.ts';
import { startFaultProxy } from './support/fault-proxy.ts';
import { freePort, startRegistry, type PushedManifest, type TestRegistry } from './support/registry.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const home = mkdtempSync(join(tmpdir(), 'polyarch-cli-'));

function polyarch(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // HOME points at an empty directory so no ~/.docker/config.json of the machine is read.
    const child = spawn(process.execPath, ['bin/polyarch.js', ...args], { env: { ...process.env, HOME: home, DOCKER_CONFIG: join(home, '.docker') } });
    child.once('error', (err) => reject(new Error(`could not run polyarch ${args.join(' ')}: ${err.message}`)));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let reg: TestRegistry;
let locked: TestRegistry;
const img: Record<string, PushedManifest> = {};
const runs: Record<string, Run> = {};
let deadPort = 0;

beforeAll(async () => {
  [reg, locked] = await Promise.all([startRegistry(), startRegistry({ auth: { htpasswd: { bob: 'pw' } } })]);
  img.amd = await reg.pushImage('team/app', '1.4-amd64', 'linux/amd64');
  img.arm = await reg.pushImage('team/app', '1.4-arm64', 'linux/arm64/v8');
  img.index = await reg.pushIndex('team/app', '1.4', [img.amd, img.arm], { attestation: true });
  img.lAmd = await reg.pushImage('team/list', undefined, 'linux/amd64', { format: 'docker' });
  img.lPpc = await reg.pushImage('team/list', undefined, 'linux/ppc64le', { format: 'docker' });
  await reg.pushIndex('team/list', 'v2', [img.lAmd, img.lPpc], { format: 'docker' });
  img.single = await reg.pushImage('team/single', '1.0', 'linux/riscv64', { format: 'docker' });
  img.cAmd = await reg.pushImage('team/conv', '2.0-amd64', 'linux/amd64');
  img.cArm = await reg.pushImage('team/conv', '2.0-arm64', 'linux/amd64');
  img.locked = await reg.pushImage('team/app', '1.0', 'linux/amd64');
  img.lockedImg = await locked.pushImage('team/secret', '1.0', 'linux/s390x');
  const authFile = join(home, 'auth.json');
  // The locked registry is named by a non-loopback spelling of 127.0.0.1, so --insecure-registry is what makes it plain HTTP.
  const lockedRemote = `2130706433:${locked.port}`;
  writeFileSync(authFile, JSON.stringify({ auths: { [lockedRemote]: { auth: Buffer.from('bob:pw').toString('base64') } } }));
  deadPort = await freePort();
  const calls: Record<string, string[]> = {
    index: ['inspect', `${reg.host}/team/app:1.4`, '--output', 'json'],
    listText: ['inspect', `${reg.host}/team/list:v2`],
    conv: ['inspect', `${reg.host}/team/conv:2.0`, '--output', 'json'],
    notFound: ['inspect', `${reg.host}/team/app:0.0`],
    unauthorized: ['inspect', `${locked.host}/team/secret:1.0`, '--output', 'json'],
    authorized: ['inspect', `${lockedRemote}/team/secret:1.0`, '--output', 'json', '--auth-file', authFile, '--insecure-registry', lockedRemote],
    unreachable: ['inspect', `127.0.0.1:${deadPort}/team/app:1.4`],
    invalid: ['inspect', `${reg.host}/Team/App:1.4`],
  };
  const names = Object.keys(calls);
  const results = await Promise.all(names.map((n) => polyarch(...(calls[n] ?? []))));
  names.forEach((n, i) => (runs[n] = results[i] as Run));
}, 120_000);

afterAll(async () => {
  await Promise.all([reg?.stop(), locked?.stop()]);
  rmSync(home, { recursive: true, force: true });
});

const run = (name: string): Run => {
  const r = runs[name];
  if (!r) throw new Error(`no run ${name}`);
  return r;
};

describe('polyarch inspect', () => {
  it('an OCI index: exactly the JSON contract', () => {
    const r = run('index');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toStrictEqual({
      reference: `${reg.host}/team/app:1.4`,
      source: 'index',
      platforms: [
        { os: 'linux', architecture: 'amd64', image: `${reg.host}/team/app@${img.amd?.digest}` },
        { os: 'linux', architecture: 'arm64', variant: 'v8', image: `${reg.host}/team/app@${img.arm?.digest}` },
      ],
      warnings: [],
    });
  });

  it('a Docker manifest list as a table', () => {
    const r = run('listText');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `${reg.host}/team/list:v2 (from index)`,
        'PLATFORM       IMAGE',
        `linux/amd64    ${reg.host}/team/list@${img.lAmd?.digest}`,
        `linux/ppc64le  ${reg.host}/team/list@${img.lPpc?.digest}`,
        '',
      ].join('\n'),
    );
  });

  it('a single-arch schema2 image', async () => {
    const r = await inProcess('inspect', `${reg.host}/team/single:1.0`, '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toStrictEqual({
      reference: `${reg.host}/team/single:1.0`,
      source: 'manifest',
      platforms: [{ os: 'linux', architecture: 'riscv64', image: `${reg.host}/team/single@${img.single?.digest}` }],
      warnings: [],
    });
  });

  it('a single-manifest arm64 image whose config states no variant: none reported (issue 15)', async () => {
    const bare = await reg.pushImage('team/bare', '1.0', 'linux/arm64');
    const r = await inProcess('inspect', `${reg.host}/team/bare:1.0`, '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).platforms).toStrictEqual([{ os: 'linux', architecture: 'arm64', image: `${reg.host}/team/bare@${bare.digest}` }]);
  });

  it('per-arch tags only: from the convention, the contradicting tag left out with a warning', () => {
    const r = run('conv');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toStrictEqual({
      reference: `${reg.host}/team/conv:2.0`,
      source: 'tag-convention',
      platforms: [{ os: 'linux', architecture: 'amd64', image: `${reg.host}/team/conv@${img.cAmd?.digest}` }],
      warnings: ['tag team/conv:2.0-arm64 is named for arm64 but its config says linux/amd64; left out'],
    });
  });

  it('not found: exit 1, one line on stderr', () => {
    const r = run('notFound');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`polyarch: ${reg.host}/team/app:0.0: registry ${reg.host} has no manifest team/app:0.0 (MANIFEST_UNKNOWN: manifest unknown); no per-architecture tags or repositories by convention either\n`);
  });

  it('unauthorized without --auth-file: exit 1, one line', () => {
    const r = run('unauthorized');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`polyarch: ${locked.host}/team/secret:1.0: registry ${locked.host} refused manifest team/secret:1.0 without credentials (none for ${locked.host}; pass --auth-file or a pull secret): HTTP 401 (UNAUTHORIZED: authentication required)\n`);
  });

  it('with --auth-file and --insecure-registry: resolved', () => {
    const r = run('authorized');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).platforms).toStrictEqual([{ os: 'linux', architecture: 's390x', image: `2130706433:${locked.port}/team/secret@${img.lockedImg?.digest}` }]);
  });

  it('unreachable: exit 1, one line', () => {
    const r = run('unreachable');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`polyarch: 127.0.0.1:${deadPort}/team/app:1.4: registry 127.0.0.1:${deadPort} unreachable (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${deadPort})\n`);
  });

  it('an invalid reference is bad usage: exit 2', () => {
    const r = run('invalid');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`polyarch: invalid image reference "${reg.host}/Team/App:1.4": repository name must be lower-case\n`);
  });

  it('a missing --auth-file: exit 1, naming the file', async () => {
    const r = await inProcess('inspect', `${reg.host}/team/app:1.4`, '--auth-file', join(home, 'absent.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`polyarch: auth file ${join(home, 'absent.json')}: no such file\n`);
  });

  it('--timeout bounds the whole lookup: a registry sending one byte a second is cut at the deadline (issue 15)', async () => {
    const proxy = await startFaultProxy(reg.port);
    try {
      proxy.fault({ path: /\/manifests\/1\.4$/, action: 'drip' });
      const r = await inProcess('inspect', `${proxy.host}/team/app:1.4`, '--timeout', '2000');
      expect(r.code).toBe(1);
      // Which request the deadline cuts depends on how loaded the machine is; that it is cut does not.
      expect(r.stderr).toMatch(new RegExp(`^polyarch: ${proxy.host}/team/app:1\\.4: registry ${proxy.host} did not finish the lookup within its 2000 ms deadline \\([^)]+ unfinished\\)\n$`));
      expect(proxy.drips.every((d) => d.sent < d.total)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
});
