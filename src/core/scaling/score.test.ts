/**
 * The reclaim score (formula 7 of the scaling method, score.ts's header): each value worked out
 * by hand from the formula: score = (4 - maxima) x (1 - aplv) x (1 - aptl), aplv the priority
 * normalised over the applications (+0.2 system, +0.1 user when the priority is shared,
 * capped at 1), aptl = running / usage window (capped at 1).
 */
import { describe, expect, it } from 'vitest';
import { scoreApps, type ScoreInput } from './score.ts';

const idle = { cpu: [], mem: [], net: [], disk: [] };
const mk = (priority: number, system = false, runningMinutes = 0): ScoreInput => ({
  priority, system, runningMinutes, allocation: { cpu: 1, memory: 1, network: 1, disk: 1 }, demand: idle,
});
const aplv = (apps: ScoreInput[]): number[] => scoreApps(apps, 60).map((t) => t.aplv);

describe('scoreApps: aplv', () => {
  it('priorities normalised between the lowest and the highest, whatever the input order', () => {
    expect(aplv([mk(10), mk(1)])).toEqual([1, 0]);
    expect(aplv([mk(1), mk(10), mk(4)])).toEqual([0, 1, 1 / 3]);
  });

  it('every priority the same: only the shared-priority weight (system 0.2, user 0.1)', () => {
    expect(aplv([mk(5), mk(5, true)])).toEqual([0.1, 0.2]);
    expect(aplv([mk(5)])).toEqual([0]);
  });

  it('a shared priority adds its weight; an unshared one none', () => {
    expect(aplv([mk(0), mk(6), mk(6, true), mk(3)])).toEqual([0, 1, 1, 0.5]);
    expect(aplv([mk(0, true), mk(4), mk(2), mk(2, true)])).toEqual([0, 1, 0.6, 0.7]);
  });

  it('capped at 1: the top priority shared scores 0, never below', () => {
    const t = scoreApps([mk(0), mk(6), mk(6, true)], 60);
    expect(t.map((x) => x.aplv)).toEqual([0, 1, 1]);
    expect(t.map((x) => x.score)).toEqual([4, 0, 0]);
  });
});

describe('scoreApps: aptl and the maxima', () => {
  it('aptl is the share of the usage window the application has run, capped at 1', () => {
    expect(scoreApps([mk(0, false, 15), mk(0, false, 120), mk(0, false, -5)], 60).map((t) => t.aptl)).toEqual([0.25, 1, 0]);
  });

  it('maxima over the usage window only, demand over allocation capped at 1; no allocation: the demand as a utilisation', () => {
    const a: ScoreInput = { priority: 0, system: false, runningMinutes: 0, allocation: { cpu: 2, memory: 0, network: 4, disk: 1 }, demand: { cpu: [2, 0.5, 1], mem: [0.3], net: [9], disk: [] } };
    const [t] = scoreApps([a], 2);
    expect(t!.maxima).toEqual({ cpu: 0.5, mem: 0.3, net: 1, disk: 0 });
    expect(t!.score).toBeCloseTo(4 - 1.8, 12);
  });
});
