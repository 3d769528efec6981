import { describe, expect, it } from 'vitest';
import { boostPolicyFor, parseBoostAnnotation, planBoost, startupBoostSchema, unboostDue, boostAnnotation, type StartupBoost } from './startup-boost.ts';

const boost = (cpu: unknown): StartupBoost => startupBoostSchema.parse({ cpu });
const c = (name: string, requestMilli?: number, limitMilli?: number) => ({ name, requestMilli, limitMilli });

describe('planBoost', () => {
  it.each([
    { name: 'factor, limit kept in ratio', cs: [c('app', 500, 1000)], b: { type: 'Factor', factor: 3 }, max: undefined, room: undefined, want: [['app', '1500m', '3']] },
    { name: 'quantity added to the request', cs: [c('app', 500)], b: { type: 'Quantity', quantity: '1' }, max: undefined, room: undefined, want: [['app', '1500m', undefined]] },
    { name: "capped at the policy's maximum", cs: [c('app', 500, 1000)], b: { type: 'Factor', factor: 4 }, max: 1500, room: undefined, want: [['app', '1500m', '3']] },
    { name: "capped at the largest node's room, shared by request", cs: [c('a', 1000), c('b', 3000)], b: { type: 'Factor', factor: 4 }, max: undefined, room: 8000, want: [['a', '2', undefined], ['b', '6', undefined]] },
    { name: 'no request: not boosted', cs: [c('app')], b: { type: 'Factor', factor: 2 }, max: undefined, room: undefined, want: [] },
    { name: 'already at the maximum: not boosted', cs: [c('app', 1000)], b: { type: 'Factor', factor: 2 }, max: 1000, room: undefined, want: [] },
  ])('$name', ({ cs, b, max, room, want }) => {
    const plan = planBoost(cs, boost(b), () => max, room);
    expect(plan.containers.map((x) => [x.name, x.to.request, x.to.limit])).toEqual(want);
    expect(plan.reasons.length).toBe(cs.length);
    for (const x of plan.containers) {
      const cap = Math.min(max ?? Infinity, room ?? Infinity);
      expect(Number.parseFloat(x.to.request) * (x.to.request.endsWith('m') ? 1 : 1000)).toBeLessThanOrEqual(cap);
    }
  });

  it('refuses a boost whose type and fields disagree, naming the field', () => {
    const r = startupBoostSchema.safeParse({ cpu: { type: 'Factor', quantity: '1' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['cpu', 'type']);
  });
});

describe('unboostDue', () => {
  const rec = parseBoostAnnotation(boostAnnotation(planBoost([c('app', 500, 1000)], boost({ type: 'Factor', factor: 2, durationSeconds: 30 }), () => undefined, undefined), boost({ type: 'Factor', factor: 2, durationSeconds: 30 })));
  it('waits for Ready, then for durationSeconds, then restores the recorded CPU', () => {
    if (!rec) throw new Error('annotation did not parse');
    expect(unboostDue(rec, { readySinceMs: undefined }, 1000)).toEqual({ due: false, reason: 'not Ready yet' });
    expect(unboostDue(rec, { readySinceMs: 0 }, 10_000)).toEqual({ due: false, reason: 'Ready; boost kept 20 s more (durationSeconds)' });
    expect(unboostDue(rec, { readySinceMs: 0 }, 30_000)).toEqual({ due: true, resize: { app: { requests: { cpu: '500m' }, limits: { cpu: '1' } } } });
  });
  it('ignores an annotation that is not polyarch\'s', () => {
    expect(parseBoostAnnotation('{"x":1}')).toBeUndefined();
    expect(parseBoostAnnotation('not json')).toBeUndefined();
  });
});

describe('boostPolicyFor', () => {
  const pol = (name: string, spec: object) => ({ namespace: 'ns', name, spec: { startupBoost: boost({ type: 'Factor', factor: 2 }), ...spec } });
  it('matches by selector, or by targetRef through the owner', () => {
    const ps = [pol('by-label', { selector: { matchLabels: { app: 'java' } } }), pol('by-deploy', { targetRef: { kind: 'Deployment', name: 'web' } })];
    expect(boostPolicyFor(ps, { metadata: { labels: { app: 'java' } } }, 'ns')?.name).toBe('by-label');
    expect(boostPolicyFor(ps, { metadata: { ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7c9f8d' }] } }, 'ns')?.name).toBe('by-deploy');
    expect(boostPolicyFor(ps, { metadata: { labels: { app: 'java' } } }, 'other')).toBeUndefined();
    expect(boostPolicyFor(ps, { metadata: { ownerReferences: [{ kind: 'ReplicaSet', name: 'webapp-7c9f8d' }] } }, 'ns')).toBeUndefined();
  });
});

describe('examples/scalingpolicy-startup-boost.yaml', () => {
  it('is a valid ScalingPolicy with a startup boost', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { parseScalingPolicy } = await import('./policy.ts');
    const p = parseScalingPolicy(parse(readFileSync(new URL('../../../examples/scalingpolicy-startup-boost.yaml', import.meta.url), 'utf8')));
    expect(p.ok && p.value.spec.startupBoost).toEqual({ cpu: { type: 'Factor', factor: 3, durationSeconds: 0 } });
  });
});
