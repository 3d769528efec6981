/** deploy/autoscaler/probe-daemonset.yaml: what the probe needs on every node, and arguments the command accepts. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../src/cli/index.ts';

interface Doc {
  kind: string;
  spec?: { template: { spec: Record<string, unknown> & { containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]; resources: unknown }[]; volumes: { name: string; hostPath: { path: string } }[] } } };
}

const docs = parseAllDocuments(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'autoscaler', 'probe-daemonset.yaml'), 'utf8')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJSON() as Doc;
});

describe('deploy/autoscaler/probe-daemonset.yaml', () => {
  const ds = docs.find((d) => d.kind === 'DaemonSet')!;
  const pod = ds.spec!.template.spec;
  const container = pod.containers[0]!;

  it('runs on every node of every architecture, with the host PID namespace', () => {
    expect(pod['nodeSelector']).toBeUndefined();
    expect(pod['affinity']).toBeUndefined();
    expect(pod['tolerations']).toEqual([{ operator: 'Exists' }]);
    expect(pod['hostPID']).toBe(true);
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
  });

  it('mounts the host cgroup tree and /proc read-only, where its arguments say', () => {
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.name, m]));
    const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v.hostPath.path]));
    expect(volumes).toEqual({ cgroup: '/sys/fs/cgroup', proc: '/proc' });
    expect(mounts['cgroup']).toMatchObject({ mountPath: '/host/sys/fs/cgroup', readOnly: true });
    expect(mounts['proc']).toMatchObject({ mountPath: '/host/proc', readOnly: true });
    expect(container.args).toContain('--cgroup-root=/host/sys/fs/cgroup');
    expect(container.args).toContain('--proc-root=/host/proc');
    expect(container.resources).toMatchObject({ requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { memory: expect.any(String) } });
  });

  it('its arguments are ones `polyarch probe` accepts', async () => {
    const program = await buildProgram(['probe']);
    const probe = program.commands.find((c) => c.name() === 'probe')!;
    probe.action(() => {}); // parse only
    expect(() => program.parse(container.args, { from: 'user' })).not.toThrow();
    expect(probe.opts()).toMatchObject({ kube: true, cgroupRoot: '/host/sys/fs/cgroup', procRoot: '/host/proc', listen: '9477', interval: '5s', warmup: '60s' });
  });
});
