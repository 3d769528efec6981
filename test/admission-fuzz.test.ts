// Random, mangled, truncated and deeply nested AdmissionReview and ExtenderArgs bodies:
// every answer is a valid protocol answer, every patch applies to the pod it was computed
// from, and the server keeps serving.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Extender } from '../src/app/extender.ts';
import type { Node } from '../src/core/k8s/types.ts';
import { silentLogger } from '../src/ports/logger.ts';
import { extenderRoutes } from '../src/server/extender.ts';
import { startServer, type RunningServer } from '../src/server/http-server.ts';
import { createMetrics } from '../src/server/metrics.ts';
import { webhookRoute } from '../src/server/webhook.ts';
import { SimCluster } from '../src/sim/cluster.ts';
import { makeNode } from './builders/node.ts';
import { admissionReview, admissionReviewResponse, applyResponse } from './support/admission-review.ts';
import { MemoryResolver } from './support/memory-resolver.ts';
import { realClock } from './support/real-clock.ts';

const IMAGES = ['example.com/a:1', 'example.com/b:2', 'example.com/tag:3', 'example.com/cold:4', 'not a reference', ''];
const resolver = new MemoryResolver()
  .add('example.com/a:1', ['linux/amd64', 'linux/arm64'])
  .add('example.com/b:2', ['linux/arm64', 'linux/riscv64', 'windows/amd64'])
  .add('example.com/tag:3', ['linux/amd64', 'linux/arm64'], 'tag-convention')
  .add('example.com/cold:4', ['linux/amd64'], 'index', false);
const cluster = new SimCluster(realClock, Date.now());
for (const [n, a] of [['n1', 'amd64'], ['n2', 'arm64'], ['n3', 'riscv64']] as const) cluster.addNode(makeNode(n).arch(a).build() as Node);
const metrics = createMetrics({ defaultMetrics: false });
let server: RunningServer;

beforeAll(async () => {
  const extender = new Extender({ resolver, cluster, clock: realClock, deadlineMs: 200, preferences: [{ architecture: 'arm64', weight: 60 }] });
  server = await startServer({
    listen: '127.0.0.1:0', metrics, log: silentLogger, bodyLimit: 32 * 1024,
    routes: [webhookRoute({ resolver, preferences: [{ architecture: 'arm64', weight: 60 }], skipNamespaces: ['kube-system'] }, metrics, silentLogger), ...extenderRoutes(extender, metrics, silentLogger)],
  });
});
afterAll(() => server.close());

async function post(path: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: await res.json() };
}

// ---- pods of every shape the webhook must cope with --------------------------------------
const maybeNull = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> => fc.option(a, { nil: undefined }).chain((v) => fc.constantFrom(v, null as T | null));
const requirement = fc.record({ key: fc.constantFrom('kubernetes.io/arch', 'kubernetes.io/os', 'zone', 'a/b~c'), operator: fc.constantFrom('In', 'NotIn', 'Exists'), values: fc.array(fc.constantFrom('amd64', 'arm64', 'x'), { maxLength: 3 }) }, { requiredKeys: ['key', 'operator'] });
const term = fc.record({ matchExpressions: maybeNull(fc.array(requirement, { maxLength: 3 })), matchFields: maybeNull(fc.array(requirement, { maxLength: 1 })) }, { requiredKeys: [] });
const nodeAffinity = fc.record({
  requiredDuringSchedulingIgnoredDuringExecution: maybeNull(fc.record({ nodeSelectorTerms: fc.array(term, { maxLength: 3 }) })),
  preferredDuringSchedulingIgnoredDuringExecution: maybeNull(fc.array(fc.record({ weight: fc.integer({ min: 1, max: 100 }), preference: term }), { maxLength: 2 })),
}, { requiredKeys: [] });
const container = fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), image: fc.constantFrom(...IMAGES) }, { requiredKeys: ['name'] });
const pod = fc.record({
  metadata: fc.record({
    name: fc.stringMatching(/^[a-z]{1,8}$/),
    namespace: fc.constantFrom('default', 'kube-system', 'shop'),
    labels: maybeNull(fc.dictionary(fc.constantFrom('app', 'polyarch.io/inject'), fc.constantFrom('x', 'false'))),
    annotations: maybeNull(fc.dictionary(fc.constantFrom('a', 'polyarch.io/source-images', 'x/y'), fc.string({ maxLength: 8 }))),
  }, { requiredKeys: ['name'] }),
  spec: fc.record({
    containers: fc.uniqueArray(container, { selector: (c) => c.name, minLength: 1, maxLength: 3 }),
    initContainers: maybeNull(fc.uniqueArray(container.map((c) => ({ ...c, name: `i${c.name}` })), { selector: (c) => c.name, maxLength: 2 })),
    nodeSelector: maybeNull(fc.dictionary(fc.constantFrom('kubernetes.io/arch', 'disk'), fc.constantFrom('arm64', 'ssd'))),
    affinity: maybeNull(fc.record({ nodeAffinity: maybeNull(nodeAffinity), podAffinity: fc.constant({}) }, { requiredKeys: [] })),
    schedulingGates: maybeNull(fc.uniqueArray(fc.record({ name: fc.constantFrom('polyarch.io/platform', 'other/gate') }), { selector: (g) => g.name, maxLength: 2 })),
  }, { requiredKeys: ['containers'] }),
});

/** Replaces the value at a random path of a JSON value with another value. */
function mangle(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const k = keys[(path[0] ?? 0) % keys.length] as string;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  copy[k] = mangle((value as Record<string, unknown>)[k], path.slice(1), replacement);
  return copy;
}

const filterResult = z.object({
  Nodes: z.object({ items: z.array(z.unknown()) }).loose().nullable(),
  NodeNames: z.array(z.string()).nullable(),
  FailedNodes: z.record(z.string(), z.string()),
  FailedAndUnresolvableNodes: z.record(z.string(), z.string()),
  Error: z.string(),
}).strict();
const hostPriorityList = z.array(z.object({ Host: z.string(), Score: z.number().int().min(0).max(10) }).strict());
const bindingResult = z.object({ Error: z.string() }).strict();

describe('fuzzing the webhook', () => {
  it('answers a valid AdmissionReview to generated pods, and its patch applies to them', async () => {
    await fc.assert(fc.asyncProperty(pod, async (p) => {
      const { status, json } = await post('/mutate-pods', JSON.stringify(admissionReview(p, { namespace: p.metadata.namespace })));
      const review = admissionReviewResponse.parse(json);
      expect(status).toBe(200);
      expect(review.response.allowed).toBe(true);
      const out = applyResponse(p, review) as typeof p & { spec: { schedulingGates?: unknown[] } };
      // Admission never touches images, and never duplicates the gate.
      expect(out.spec.containers.map((c) => c.image)).toEqual(p.spec.containers.map((c) => c.image));
      expect((out.spec.schedulingGates ?? []).filter((g) => (g as { name: string }).name === 'polyarch.io/platform').length).toBeLessThanOrEqual(1);
      // Re-invocation on the result adds nothing.
      const again = admissionReviewResponse.parse((await post('/mutate-pods', JSON.stringify(admissionReview(out, { namespace: p.metadata.namespace })))).json);
      expect(applyResponse(out, again)).toEqual(out);
    }), { numRuns: 80 });
  });

  it('answers a valid AdmissionReview to mangled and truncated reviews', async () => {
    await fc.assert(fc.asyncProperty(pod, fc.array(fc.nat(), { maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), async (p, path, replacement, cut, truncate) => {
      const whole = JSON.stringify(mangle(admissionReview(p), path, replacement));
      const body = truncate ? whole.slice(0, Math.floor(whole.length * cut)) : whole;
      const { status, json } = await post('/mutate-pods', body);
      const review = admissionReviewResponse.parse(json);
      expect([200, 400, 413]).toContain(status);
      expect(review.response.allowed).toBe(status === 200);
    }), { numRuns: 120 });
  });
});

describe('fuzzing the extender', () => {
  const args = fc.record({
    Pod: pod,
    Nodes: maybeNull(fc.record({ items: fc.array(fc.constantFrom(...(['n1', 'n2', 'n3'].map((n) => cluster.nodeObject(n))))) })),
    NodeNames: maybeNull(fc.array(fc.constantFrom('n1', 'n2', 'n3', 'gone'))),
  });
  it('answers every verb with its result type, for generated, mangled and truncated bodies', async () => {
    await fc.assert(fc.asyncProperty(args, fc.array(fc.nat(), { maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), fc.nat({ max: 3 }), fc.double({ min: 0, max: 1, noNaN: true }), async (a, path, replacement, how, cut) => {
      const valid = JSON.stringify(a);
      const body = how === 0 ? valid : how === 1 ? JSON.stringify(mangle(a, path, replacement)) : how === 2 ? valid.slice(0, Math.floor(valid.length * cut)) : JSON.stringify(replacement);
      const f = await post('/extender/filter', body);
      const r = filterResult.parse(f.json);
      if (f.status === 200 && !r.Error) {
        const passed = r.NodeNames ?? r.Nodes?.items.map((n) => (n as { metadata: { name: string } }).metadata.name) ?? [];
        for (const n of passed) {
          expect(r.FailedNodes[n]).toBeUndefined();
          expect(r.FailedAndUnresolvableNodes[n]).toBeUndefined();
        }
      }
      const pr = await post('/extender/prioritize', body);
      hostPriorityList.parse(pr.json);
      const bindBody = how === 0 ? JSON.stringify({ PodName: a.Pod.metadata.name, PodNamespace: 'default', PodUID: '', Node: 'n1' }) : body;
      bindingResult.parse((await post('/extender/bind', bindBody)).json);
    }), { numRuns: 80 });
  });
});

describe('fuzzing with deep nesting', () => {
  /** `levels` nested arrays or objects, as text: JSON.stringify of such a value would itself overflow the stack. */
  const deep = (levels: number, objects: boolean): string => (objects ? `${'{"a":'.repeat(levels)}null${'}'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`);
  const SENTINEL = '__polyarch_deep__';
  const bodyWith = (value: unknown, path: number[], levels: number, objects: boolean): string =>
    JSON.stringify(mangle(value, path, SENTINEL)).replace(`"${SENTINEL}"`, deep(levels, objects));
  const verbs = [['/extender/filter', filterResult], ['/extender/prioritize', hostPriorityList], ['/extender/bind', bindingResult]] as const;

  it('an object 5,000 levels deep among the nodes kube-scheduler sends: an ExtenderFilterResult, not a closed connection', async () => {
    const a = { Pod: { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'example.com/a:1' }] } }, Nodes: { items: [{ ...cluster.nodeObject('n1'), deep: SENTINEL }] }, NodeNames: null };
    const body = JSON.stringify(a).replace(`"${SENTINEL}"`, deep(5000, true));
    const f = await post('/extender/filter', body);
    expect(f.status).toBe(400);
    expect(filterResult.parse(f.json).Error).toMatch(/nested deeper than 512 levels/);
  });

  it('every extender verb and the webhook answer in their protocol, at any depth anywhere in the body', async () => {
    const args = fc.record({ Pod: pod, Nodes: fc.record({ items: fc.array(fc.constantFrom(...(['n1', 'n2'].map((n) => cluster.nodeObject(n)))), { maxLength: 2 }) }), NodeNames: fc.constant(null) });
    await fc.assert(fc.asyncProperty(args, pod, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 6000 }), fc.boolean(), async (a, p, path, levels, objects) => {
      for (const [verb, schema] of verbs) {
        const r = await post(verb, bodyWith(a, path, levels, objects));
        schema.parse(r.json);
        expect([200, 400, 413, 500]).toContain(r.status);
      }
      const review = await post('/mutate-pods', bodyWith(admissionReview(p), path, levels, objects));
      expect(admissionReviewResponse.parse(review.json).response.allowed).toBe(review.status === 200);
    }), { numRuns: 40 });
  });
});

describe('after the fuzzing', () => {
  it('still serves', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe('ok');
  });
});
