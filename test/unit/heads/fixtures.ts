import { mulberry32 } from '../../../src/heads/random.js';
import type { TrainData } from '../../../src/heads/types.js';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Rows cycling through `labels`, each a class centre (±`spread` per dimension) plus unit noise. */
export function separableData(rowsPerLabel: number, dim: number, labels: string[], seed = 1, spread = 1.5): TrainData {
  const random = mulberry32(seed);
  const centres = labels.map(() => Array.from({ length: dim }, () => (random() < 0.5 ? -spread : spread)));
  const rows = rowsPerLabel * labels.length;
  const features = new Float32Array(rows * dim);
  const rowLabels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const c = r % labels.length;
    rowLabels.push(labels[c]);
    for (let d = 0; d < dim; d++) features[r * dim + d] = centres[c][d] + gaussian(random);
  }
  return { features, dim, labels: rowLabels, keys: rowLabels.map((l, r) => `images/set/${l}/${r}.jpg`) };
}

/** Pure noise with random labels: anything learned is memorised, so validation loss rises — early stopping's case. */
export function noiseData(rows: number, dim: number, labels: string[], seed = 3): TrainData {
  const random = mulberry32(seed);
  const features = Float32Array.from({ length: rows * dim }, () => gaussian(random));
  return { features, dim, labels: Array.from({ length: rows }, (_, r) => labels[r % labels.length]) };
}

/** Numbers close enough for float32 arithmetic done in a different order. */
export function relativeDifference(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-12, Math.abs(a), Math.abs(b));
}
