/**
 * A tiny seeded PRNG (mulberry32): the split, the epoch shuffles and the dropout masks must repeat
 * exactly for a given seed, which Math.random cannot do. 32-bit state, period 2^32, plenty here.
 */
export type Random = () => number;

/** Returns a generator of floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent streams from one user seed (split, shuffle, dropout), so changing one use does not shift the others. */
export function deriveSeed(seed: number, stream: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, random: Random): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = values[i];
    values[i] = values[j];
    values[j] = tmp;
  }
  return values;
}

/**
 * Fills `out[0..n)` with an inverted-dropout mask: 0 with probability `rate`, else 1 / (1 − rate),
 * the same rule as tf.dropout (keep when u ≥ rate). The tfjs and js engines draw identical masks.
 */
export function fillDropoutMask(out: Float32Array, n: number, rate: number, random: Random): Float32Array {
  const keep = 1 / (1 - rate);
  for (let i = 0; i < n; i++) out[i] = random() >= rate ? keep : 0;
  return out;
}
