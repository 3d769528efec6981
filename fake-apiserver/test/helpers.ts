/** Shared builders and assertions for the fake API server's conformance tests. */
import { expect } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../test/support/wait.ts';

export const pod = (name: string, extra: { labels?: Record<string, string>; nodeName?: string; schedulerName?: string; namespace?: string; resources?: Record<string, unknown> } = {}): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
  spec: {
    containers: [{ name: 'app', image: 'registry.local/app:1.0', ...(extra.resources ? { resources: extra.resources } : {}) }],
    ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
    ...(extra.schedulerName ? { schedulerName: extra.schedulerName } : {}),
  },
});

export const node = (name: string, arch = 'amd64', allocatable: Record<string, string> = { cpu: '4', memory: '8Gi', pods: '110' }): V1Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name } },
  spec: {},
  status: {
    capacity: allocatable, allocatable,
    nodeInfo: { architecture: arch, operatingSystem: 'linux', bootID: '', containerRuntimeVersion: 'containerd://2.0.0', kernelVersion: '6.1.0', kubeProxyVersion: '', kubeletVersion: 'v1.33.0', machineID: name, osImage: 'Debian GNU/Linux 13', systemUUID: name },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
  },
});

/** A Running, Ready pod as stored (for seeding). */
export const readyPod = (name: string, labels: Record<string, string>, nodeName = 'n1'): V1Pod => {
  const p = pod(name, { labels, nodeName });
  p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  return p;
};

/** The Status body a client-node ApiException carries. */
export const statusOf = (e: unknown): { code: number; body: Record<string, unknown> } => {
  const err = e as { code?: number; body?: unknown };
  const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  return { code: err.code ?? 0, body: body as Record<string, unknown> };
};

/** Awaits a rejected client call and checks its HTTP code and Status body. */
export const expectStatus = async (p: Promise<unknown>, code: number, reason: string): Promise<Record<string, unknown>> => {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a ${code} ${reason}`).toBeDefined();
  const { code: got, body } = statusOf(caught);
  expect(got).toBe(code);
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
  expect(typeof body.message).toBe('string');
  return body;
};

/** Raw HTTP against the server: method, path, JSON body, content type. */
export const raw = async (base: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
};

/** Waits until `cond` holds, at most `tries` x 10 ms; fails naming `what` (test/support/wait.ts). */
export const until = async (cond: () => boolean | Promise<boolean>, what: string, tries = 1500): Promise<void> => {
  await waitFor(cond, { what, timeoutMs: tries * 10, intervalMs: 10 });
};
