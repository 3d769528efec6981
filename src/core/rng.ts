/**
 * The one seeded PRNG (sfc32 seeded through splitmix32): the scheduler's tie-breaks, the
 * simulator's streams and the fake API server's names all draw from it, so a run is the
 * same for the same seed on every machine. Pure: core/ takes no ambient randomness. Not
 * for cryptography.
 */
import { fnv32a } from './k8s/workloads.ts';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A child generator with its own stream, derived from this one and a label. */
  fork(label: string): Rng;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}


export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // warm up: sfc32 mixes poorly in its first outputs
  return {
    next,
    int: (n) => Math.floor(next() * n),
    fork: (label) => createRng((seed ^ fnv32a(label)) >>> 0),
  };
}
