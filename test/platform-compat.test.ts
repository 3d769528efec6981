/**
 * canRun and variantFit (src/core/platform) against the independent statement of the OCI /
 * containerd matching rules in test/support/platform-oracle.ts, over every pair of a grid of
 * the platforms images are published for.
 */
import { describe, expect, it } from 'vitest';
import { canRun, parsePlatform, variantFit, type Platform } from '../src/core/platform/platform.ts';
import { oracleBest, oracleCanRun } from './support/platform-oracle.ts';

const GRID = [
  'linux/amd64', 'linux/amd64/v2', 'linux/amd64/v3', 'linux/amd64/v4', 'linux/386',
  'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/armhf', 'linux/armel',
  'linux/arm64', 'linux/arm64/v8.1', 'linux/arm64/v8.2', 'linux/arm64/v8.5', 'linux/arm64/v8.6', 'linux/arm64/v8.9',
  'linux/arm64/v9', 'linux/arm64/v9.1', 'linux/arm64/v9.4', 'linux/arm64/v9.5',
  'linux/loong64', 'linux/riscv64', 'linux/riscv64/v1', 'linux/riscv64/v2', 'linux/riscv64/v3', 'linux/ppc64le', 'linux/s390x',
  'windows/amd64', 'windows/arm64',
];

const p = (s: string): Platform => {
  const r = parsePlatform(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const pairs = GRID.flatMap((image) => GRID.map((node) => [image, node] as const));

describe('canRun agrees with containerd platform matching', () => {
  it.each(pairs)('image %s on node %s', (image, node) => {
    expect(canRun(p(image), p(node))).toBe(oracleCanRun(image, node));
  });

  it('the case no test had: an arm/v8 image does not run on an arm/v7 node, the reverse does', () => {
    expect(oracleCanRun('linux/arm/v8', 'linux/arm/v7')).toBe(false);
    expect(canRun(p('linux/arm/v8'), p('linux/arm/v7'))).toBe(false);
    expect(canRun(p('linux/arm/v7'), p('linux/arm/v8'))).toBe(true);
  });
});

describe('variantFit picks what containerd would pull', () => {
  // Index manifests as they are published: every node of the grid chooses among these.
  const OFFERS = [
    ['linux/amd64', 'linux/amd64/v2', 'linux/amd64/v3'],
    ['linux/arm/v6', 'linux/arm/v7'],
    ['linux/arm/v5', 'linux/arm/v7', 'linux/arm/v8'],
    ['linux/arm64', 'linux/arm64/v8.2', 'linux/arm64/v9'],
    ['linux/arm64/v8.5', 'linux/arm64/v8.6', 'linux/arm64/v9'],
    ['linux/arm64', 'linux/arm/v7', 'linux/amd64'],
    ['linux/riscv64', 'linux/riscv64/v1', 'linux/riscv64/v2'],
  ];
  const cases = OFFERS.flatMap((offer) => GRID.map((node) => [offer, node] as const));

  it.each(cases)('offer %j on node %s', (offer, node) => {
    let best: string | undefined;
    let bestFit = -Infinity;
    for (const o of offer) {
      const fit = variantFit(p(o), p(node));
      if (fit !== undefined && fit > bestFit) [best, bestFit] = [o, fit];
    }
    expect(best).toBe(oracleBest(offer, node));
  });
});
