/**
 * `polyarch schedule` end to end against the real registry (Debian's docker-registry on
 * loopback): a multi-arch index, per-arch tags and a single-arch image, resolved live,
 * placed on a mixed amd64 / arm64 / loong64 cluster, each container pinned by digest.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './support/registry.ts';

const root = join(import.meta.dirname, '..');

function polyarch(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [join(root, 'bin', 'polyarch.js'), ...args], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const node = (name: string, arch: string) => `apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: {kubernetes.io/arch: ${arch}, kubernetes.io/os: linux}}
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
`;
const pod = (name: string, image: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
${extra}  containers:
  - name: app
    image: ${image}
    resources: {requests: {cpu: 500m, memory: 256Mi}}
`;

describe('polyarch schedule with images from a real registry', () => {
  let reg: TestRegistry;
  let digests: Record<string, string>;

  beforeAll(async () => {
    reg = await startRegistry();
    const web = await reg.pushMultiArch('team/web', '2.0', ['linux/amd64', 'linux/arm64/v8', 'linux/loong64']);
    const toolArm = await reg.pushImage('team/tool', '1.4-arm64', 'linux/arm64/v8');
    const toolLoong = await reg.pushImage('team/tool', '1.4-loong64', 'linux/loong64');
    const legacy = await reg.pushImage('team/legacy', '3.1', 'linux/amd64');
    const byPlatform = (ms: readonly { platform?: string; digest: string }[], p: string) => ms.find((m) => m.platform === p)?.digest ?? '';
    digests = {
      webArm: byPlatform(web.images, 'linux/arm64/v8'),
      toolArm: toolArm.digest,
      toolLoong: toolLoong.digest,
      legacy: legacy.digest,
    };
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('places each pod on a platform its image exists for, pinned by digest, and explains the refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-schedule-registry-'));
    const file = join(dir, 'cluster.yaml');
    const h = reg.host;
    writeFileSync(file, [
      node('amd-1', 'amd64'),
      node('arm-1', 'arm64'),
      node('loong-1', 'loong64'),
      pod('web-on-arm', `${h}/team/web:2.0`, '  nodeSelector: {kubernetes.io/arch: arm64}\n'),
      pod('tool', `${h}/team/tool:1.4`),
      pod('legacy', `${h}/team/legacy:3.1`),
      pod('legacy-on-arm', `${h}/team/legacy:3.1`, '  nodeSelector: {kubernetes.io/arch: arm64}\n'),
    ].join('---\n'));

    const r = await polyarch('schedule', file, '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { decisions: { pod: string; node: string | null; platform: string | null; images: Record<string, string>; reason: string }[]; summary: { scheduled: number; unschedulable: number } };
    const d = Object.fromEntries(out.decisions.map((x) => [x.pod, x]));

    expect(d['default/web-on-arm']).toMatchObject({ node: 'arm-1', images: { app: `${h}/team/web@${digests.webArm}` } });
    // Per-arch tags only: an arm64 or loong64 node, with that variant's digest.
    const tool = d['default/tool'];
    expect(['arm-1', 'loong-1']).toContain(tool?.node);
    expect(tool?.images['app']).toBe(tool?.node === 'arm-1' ? `${h}/team/tool@${digests.toolArm}` : `${h}/team/tool@${digests.toolLoong}`);
    expect(d['default/legacy']).toMatchObject({ node: 'amd-1', images: { app: `${h}/team/legacy@${digests.legacy}` } });
    // Single-arch amd64 image pinned to arm64: refused, and the reason names the image's platform.
    expect(d['default/legacy-on-arm']?.node).toBeNull();
    expect(d['default/legacy-on-arm']?.reason).toMatch(/0\/3 nodes are available/);
    expect(d['default/legacy-on-arm']?.reason).toContain('linux/amd64');
    expect(out.summary).toEqual({ scheduled: 3, unschedulable: 1 });
  });

  it('names the registry when an image is missing there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyarch-schedule-registry-'));
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, [node('amd-1', 'amd64'), pod('ghost', `${reg.host}/team/ghost:1.0`)].join('---\n'));
    const r = await polyarch('schedule', file, '--output', 'json');
    const out = JSON.parse(r.stdout) as { decisions: { pod: string; node: string | null; reason: string }[] };
    expect(out.decisions[0]?.node).toBeNull();
    expect(out.decisions[0]?.reason).toContain(`${reg.host}/team/ghost:1.0`);
  });
});
