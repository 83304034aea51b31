import { decodePredictions } from '../../src/classify/decode.js';
import type { LabelScore } from '../../src/heads/predict.js';

// Heads' top-k lives beside predictHead (batch prediction uses it too).
export { headTop, type LabelScore } from '../../src/heads/predict.js';

/** ImageNet top-k of one 1,000-class probability row (Keras `decode_predictions`). */
export function imagenetTop(probabilities: Float32Array, top: number): LabelScore[] {
  return decodePredictions([probabilities], top)[0]!.map(({ label, score }) => ({ label, score }));
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
