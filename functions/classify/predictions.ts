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

/** The answer's label: the top prediction's, or null below `minConfidence` (the caller's threshold). */
export interface LabelDecision {
  label: string | null;
  /** True when the top score is lower than `minConfidence` (label is then null). */
  belowThreshold: boolean;
}

/**
 * With `minConfidence`, the label to act on: the top label, or `label: null, belowThreshold: true` when
 * the top score is lower, so a caller never acts on a guess it said it would not take. (Auto heads
 * answer calibrated probabilities, so the threshold means what it says.) Without one, nothing is added.
 */
export function decideLabel(predictions: readonly LabelScore[], minConfidence: number | undefined): LabelDecision | undefined {
  if (minConfidence === undefined) return undefined;
  const top = predictions[0];
  const below = !top || top.score < minConfidence;
  return { label: below ? null : top.label, belowThreshold: below };
}
