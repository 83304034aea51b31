import { decodePredictions } from '../../src/classify/decode.js';

/** One class of an answer: `{ label, score }`, highest score first. */
export interface LabelScore {
  label: string;
  score: number;
}

/** ImageNet top-k of one 1,000-class probability row (Keras `decode_predictions`). */
export function imagenetTop(probabilities: Float32Array, top: number): LabelScore[] {
  return decodePredictions([probabilities], top)[0]!.map(({ label, score }) => ({ label, score }));
}

/**
 * The `top` labels of each row of a [rows, labels.length] probability matrix, by decreasing score
 * (ties: label order, as decode_predictions breaks them by index). `top` is capped at the label count.
 */
export function headTop(probabilities: Float32Array, labels: readonly string[], top: number): LabelScore[][] {
  const classes = labels.length;
  const rows = probabilities.length / classes;
  const k = Math.min(top, classes);
  return Array.from({ length: rows }, (_, r) => {
    const row = probabilities.subarray(r * classes, (r + 1) * classes);
    const order = labels.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
    return order.slice(0, k).map((i) => ({ label: labels[i]!, score: row[i]! }));
  });
}
