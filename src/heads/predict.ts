import { tf } from '../engine/backend.js';
import { DimensionMismatchError } from './errors.js';
import { inputDim } from './model.js';

/** Rows per forward pass: bounds the activations held at once (4096 × 256 floats is 4 MB). */
const PREDICT_CHUNK_ROWS = 4096;

/**
 * Class probabilities for row-major features [N, dim]: a Float32Array [N, C] in the model's label
 * order. Runs in chunks, in inference mode (no dropout); creates no tensor that outlives the call.
 */
export function predictHead(model: tf.LayersModel, features: Float32Array, dim: number): Float32Array {
  const expected = inputDim(model);
  if (dim !== expected) throw new DimensionMismatchError(`predictHead: dim is ${dim} but the head expects ${expected}-d features.`);
  if (features.length % dim !== 0) {
    throw new DimensionMismatchError(`predictHead: ${features.length} feature values are not a whole number of ${dim}-d rows.`);
  }
  const rows = features.length / dim;
  const numClasses = model.outputs[0].shape[1] as number;
  const out = new Float32Array(rows * numClasses);
  for (let start = 0; start < rows; start += PREDICT_CHUNK_ROWS) {
    const end = Math.min(rows, start + PREDICT_CHUNK_ROWS);
    const probs = tf.tidy(() => {
      const x = tf.tensor2d(features.subarray(start * dim, end * dim), [end - start, dim]);
      // apply, not predict: predict cuts its input into batches of 32 with tf.slice, and the wasm
      // backend's slice copies the whole input each time (measured 0.66 s per 1,000 × 2048 rows).
      return (model.apply(x, { training: false }) as tf.Tensor).dataSync();
    });
    out.set(probs, start * numClasses);
  }
  return out;
}

/** One class of an answer: `{ label, score }`, highest score first. */
export interface LabelScore {
  label: string;
  score: number;
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
