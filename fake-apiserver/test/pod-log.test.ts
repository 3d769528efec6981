import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../index.ts';

// pods/log options as the API validates them: 422 Invalid naming the field.
describe('GET pods/NAME/log options', () => {
  let s: FakeApiServer;
  beforeAll(async () => {
    s = await FakeApiServer.start({ controllerAutoRun: false, controllers: { kubelet: true }, images: { 'r/liar:1': { platforms: ['linux/amd64', 'linux/arm64'], binaries: { 'linux/arm64': 'linux/amd64' } } } });
    s.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'arm', labels: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux' } }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } });
    await s.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'arm', containers: [{ name: 'app', image: 'r/liar:1' }] } });
    await s.reconcile();
  });
  afterAll(() => s?.close());

  it('sends the tail of the exec format error, bounded by limitBytes', async () => {
    const r = await fetch(`${s.url}/api/v1/namespaces/default/pods/p/log?tailLines=5&limitBytes=9`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(await r.text()).toBe('exec /app');
  });

  it.each([['tailLines=-1', 'tailLines: Invalid value: -1: must be greater than or equal to 0'], ['limitBytes=0', 'limitBytes: Invalid value: 0: must be greater than 0']])('refuses %s', async (q, message) => {
    const r = await fetch(`${s.url}/api/v1/namespaces/default/pods/p/log?${q}`);
    expect(r.status).toBe(422);
    const body = (await r.json()) as { reason: string; message: string };
    expect(body.reason).toBe('Invalid');
    expect(body.message).toBe(`PodLogOptions "p" is invalid: ${message}`);
  });
});
