import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerBounds, CONTROLLED_VALUES, MODES, parseScalingPolicy } from './policy.ts';

describe('ScalingPolicy', () => {
  it('fills the defaults and reads bounds per container, "*" for the rest', () => {
    const p = parseScalingPolicy({ metadata: { name: 'web', namespace: 'shop' }, spec: { targetRef: { kind: 'Deployment', name: 'web' }, containers: [{ name: '*', max: { cpu: '2', memory: '1Gi' } }, { name: 'side', min: { cpu: '50m' } }] } });
    if (!p.ok) throw new Error(p.error);
    expect(p.value.spec.mode).toBe('Recommend');
    expect(p.value.spec.forecast).toEqual({ window: 10, horizon: 5, errorQuantile: 0.95, errorWindow: 60 });
    expect(p.value.spec.headroom).toBe(0.05);
    expect(containerBounds(p.value.spec, 'app')).toEqual({ min: {}, max: { cpu: 2, memory: 2 ** 30 } });
    expect(containerBounds(p.value.spec, 'side')).toEqual({ min: { cpu: 0.05 }, max: {} });
  });

  it('names the field of a bad spec', () => {
    const bad = (spec: unknown): string => {
      const p = parseScalingPolicy({ metadata: { name: 'x' }, spec });
      return p.ok ? 'ok' : p.error;
    };
    expect(bad({ targetRef: { kind: 'Deployment', name: 'w' }, mode: 'Auto' })).toMatch(/^spec\.mode: /);
    expect(bad({ targetRef: { kind: 'Deployment', name: 'w' }, controlledValues: 'Limits' })).toMatch(/^spec\.controlledValues: .*RaiseOnly.*RequestsAndLimits.*RequestsOnly/);
    expect(bad({ targetRef: { kind: 'Deployment', name: 'w' }, containers: [{ name: 'a', max: { memory: '1Gx' } }] })).toBe('spec.containers.0.max.memory: invalid quantity "1Gx": unknown suffix "Gx"');
    expect(bad({})).toBe('spec.targetRef: give exactly one of targetRef or selector');
    expect(bad({ targetRef: { kind: 'Deployment', name: 'w' }, headroom: 0.1, typo: 1 })).toMatch(/^spec: .*typo/);
    expect(bad({ targetRef: { kind: 'Deployment', name: 'w' }, minChange: { cpu: 1.5 } })).toMatch(/^spec\.minChange\.cpu: /);
    expect(bad({ targetRef: { kind: 'Deployment', name: 'w' }, minChange: 0.1 })).toMatch(/^spec\.minChange: /);
  });

  it('accepts the example in examples/', () => {
    const p = parseScalingPolicy(parse(readFileSync(new URL('../../../examples/scalingpolicy.yaml', import.meta.url), 'utf8')));
    expect(p.ok && p.value.spec.mode).toBe('InPlace');
  });

  it('matches the CRD in deploy/: the same modes, fields and defaults', () => {
    const crd = parse(readFileSync(new URL('../../../deploy/autoscaler/scalingpolicy-crd.yaml', import.meta.url), 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, { enum?: string[]; default?: unknown }> } } } } }[] };
    };
    const props = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties;
    expect(props['mode']!.enum).toEqual([...MODES]);
    const p = parseScalingPolicy({ spec: { selector: { matchLabels: { a: 'b' } } } });
    if (!p.ok) throw new Error(p.error);
    expect(props['controlledValues']!.enum).toEqual([...CONTROLLED_VALUES]);
    expect(Object.keys(props).sort()).toEqual(Object.keys({ ...p.value.spec, targetRef: 1, priority: 1, startupBoost: 1, controlledValues: 1, minChange: 1 }).sort());
    for (const k of ['headroom', 'mode', 'application', 'migrateWhenNodeFull', 'memoryMargin'] as const) expect(props[k]!.default).toEqual(p.value.spec[k]);
  });
});
