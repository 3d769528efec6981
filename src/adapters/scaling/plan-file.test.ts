import { describe, expect, it } from 'vitest';
import { validatePlanInput } from './plan-file.ts';

const base = {
  capacity: { cpu: '8', memory: '16Gi', network: '1G', disk: '500M' },
  apps: [{ name: 'a', allocation: { cpu: '500m', memory: '1Gi', network: '10M', disk: 1e6 }, usage: { cpu: [0.5] } }],
};

describe('validatePlanInput', () => {
  it('parses quantities and fills defaults', () => {
    const r = validatePlanInput(base);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.capacity).toEqual({ cpu: 8, memory: 16 * 2 ** 30, network: 1e9, disk: 5e8 });
    expect(r.value.policy).toMatchObject({ window: 10, horizon: 5, headroom: 0.05, errorQuantile: 0.95, errorWindow: 60, youngMinutes: 10, compactStep: 0.25, usageMinutes: 60 });
    // Utilisations in the file are read as demand: 0.5 of 500m is 250m.
    expect(r.value.apps[0]).toMatchObject({ priority: 0, system: false, runningMinutes: 0, allocation: { cpu: 0.5 }, demand: { cpu: [0.25], mem: [], net: [], disk: [] } });
  });

  it.each([
    [{ ...base, capacity: { ...base.capacity, cpu: '-1' } }, /^capacity\.cpu: '-1' is negative/],
    [{ ...base, extra: 1 }, /^\(top level\): .*extra/],
    [{ ...base, apps: [{ ...base.apps[0], alloc: {} }] }, /^apps\[0\]/],
    [{ ...base, apps: [base.apps[0], base.apps[0]] }, /^apps\[1\]\.name: duplicate name 'a' \(also apps\[0\]\)/],
    [{ ...base, apps: [{ ...base.apps[0], min: { cpu: '2' }, max: { cpu: '1' } }] }, /^apps\[0\]\.min\.cpu: min 2 is above max 1/],
    [{ ...base, policy: { window: 1 } }, /^policy\.window: /],
    [{ ...base, apps: [{ ...base.apps[0], usage: { cpu: new Array(61).fill(0.1) } }] }, /^apps\[0\]\.usage\.cpu: at most 60 per-minute values/],
    [{ ...base, apps: [{ ...base.apps[0], allocation: { cpu: 1, memory: 1, network: 1 } }] }, /^apps\[0\]\.allocation\.disk: /],
    [null, /^\(top level\): /],
  ])('names the field: %#', (doc, message) => {
    const r = validatePlanInput(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});
