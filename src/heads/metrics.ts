import type { ClassMetrics, HeadMetrics } from './types.js';

/** Keras clips probabilities to [ε, 1 − ε] before the log (backend epsilon 1e-7). */
export const PROBABILITY_EPSILON = 1e-7;

/** Index of the largest value in probs[row]; ties go to the first, as tf.argMax. */
export function argMaxRow(probs: Float32Array, row: number, numClasses: number): number {
  const offset = row * numClasses;
  let best = 0;
  for (let c = 1; c < numClasses; c++) if (probs[offset + c] > probs[offset + best]) best = c;
  return best;
}

/** Categorical cross-entropy of one row's probabilities against its true class. */
export function rowCrossEntropy(probs: Float32Array, row: number, numClasses: number, truth: number): number {
  const p = probs[row * numClasses + truth];
  return -Math.log(Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p)));
}

/** Mean cross-entropy and accuracy of probabilities [rows, classes] against class indices. */
export function lossAndAccuracy(probs: Float32Array, truth: Int32Array, numClasses: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let row = 0; row < truth.length; row++) {
    loss += rowCrossEntropy(probs, row, numClasses, truth[row]);
    if (argMaxRow(probs, row, numClasses) === truth[row]) correct++;
  }
  return { loss: loss / truth.length, accuracy: correct / truth.length };
}

/** Rows = true class, columns = predicted class. */
export function confusionMatrix(predicted: Int32Array, truth: Int32Array, numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  truth.forEach((t, row) => matrix[t][predicted[row]]++);
  return matrix;
}

/** Precision, recall and F1 per class from a confusion matrix; 0 where undefined (sklearn's zero_division=0). */
export function perClassMetrics(matrix: number[][], labels: readonly string[]): Record<string, ClassMetrics> {
  const ratio = (num: number, den: number) => (den === 0 ? 0 : num / den);
  return Object.fromEntries(
    labels.map((label, c) => {
      const truePositives = matrix[c][c];
      const support = matrix[c].reduce((a, b) => a + b, 0);
      const predictedCount = matrix.reduce((sum, row) => sum + row[c], 0);
      const precision = ratio(truePositives, predictedCount);
      const recall = ratio(truePositives, support);
      return [label, { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support }];
    }),
  );
}

/** All head metrics from probabilities [rows, labels.length] and true class indices. */
export function computeMetrics(probs: Float32Array, truth: Int32Array, labels: readonly string[]): HeadMetrics {
  const numClasses = labels.length;
  const predicted = truth.map((_, row) => argMaxRow(probs, row, numClasses));
  const matrix = confusionMatrix(predicted, truth, numClasses);
  const { loss, accuracy } = lossAndAccuracy(probs, truth, numClasses);
  return { accuracy, loss, perClass: perClassMetrics(matrix, labels), confusionMatrix: matrix, labels: [...labels] };
}
