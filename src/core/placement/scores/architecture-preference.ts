/**
 * ArchitecturePreference score (polyarch's own): a policy gives each platform a weight
 * 0..100, e.g. `{ "linux/arm64": 100, "linux/amd64": 40 }` to prefer a cheaper arm64
 * pool. Keys are `os/arch/variant`, `os/arch` or a bare `arch`; the most specific key
 * that names the node's platform wins; unnamed platforms score 0.
 */

import { parsePlatform } from '../../platform/platform.ts';
import type { Platform } from '../../platform/platform.ts';
import { MAX_NODE_SCORE, type ScorePlugin } from '../plugin.ts';

export type ArchitectureWeights = Readonly<Record<string, number>>;

export type WeightsResult = { ok: true; value: (p: Platform) => number } | { ok: false; error: string };

/** Validates the policy's keys and weights; the error names the key. */
export function compileArchitectureWeights(weights: ArchitectureWeights): WeightsResult {
  const rules: { platform: Platform; specificity: number; weight: number }[] = [];
  for (const [key, weight] of Object.entries(weights)) {
    if (!Number.isFinite(weight) || weight < 0 || weight > MAX_NODE_SCORE) {
      return { ok: false, error: `architecturePreference["${key}"]: weight must be between 0 and ${MAX_NODE_SCORE}, got ${weight}` };
    }
    const p = parsePlatform(key);
    if (!p.ok) return { ok: false, error: `architecturePreference["${key}"]: ${p.error}` };
    // A variant written in the key (or implied, arm -> v7) must match; without one any variant does.
    const parts = key.split('/').length;
    rules.push({ platform: p.value, specificity: parts === 3 ? 2 : parts === 2 ? 1 : 0, weight });
  }
  rules.sort((a, b) => b.specificity - a.specificity);
  const memo = new Map<string, number>();
  return {
    ok: true,
    value: (node) => {
      const k = `${node.os}/${node.architecture}/${node.variant}`;
      let w = memo.get(k);
      if (w === undefined) {
        const hit = rules.find((r) => r.platform.os === node.os && r.platform.architecture === node.architecture && (r.specificity < 2 || r.platform.variant === node.variant));
        w = hit?.weight ?? 0;
        memo.set(k, w);
      }
      return w;
    },
  };
}

export function architecturePreference(weightOf: (p: Platform) => number): ScorePlugin {
  return {
    name: 'ArchitecturePreference',
    score(_pod, node) {
      return node.platform ? weightOf(node.platform) : 0;
    },
  };
}
