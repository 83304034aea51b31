import { tf } from '../../engine/backend.js';
import type { HeadSet } from '../dataset.js';
import { denseLayers } from '../model.js';

/** Per-dimension mean and standard deviation of training rows (scikit-learn's StandardScaler). */
export interface Standardization {
  mean: Float32Array;
  /** Population standard deviation; 1 where a dimension is constant (so it maps to 0, as StandardScaler does). */
  std: Float32Array;
}

/** Mean and standard deviation of `rows` of the set (all rows when absent), in float64. */
export function fitStandardization(set: HeadSet, rows?: Int32Array): Standardization {
  const { dim, features } = set;
  const count = rows ? rows.length : set.rows;
  const sum = new Float64Array(dim);
  const squares = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    const offset = (rows ? rows[i]! : i) * dim;
    for (let j = 0; j < dim; j++) {
      const v = features[offset + j]!;
      sum[j] += v;
      squares[j] += v * v;
    }
  }
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const m = sum[j] / count;
    const variance = Math.max(0, squares[j] / count - m * m);
    mean[j] = m;
    std[j] = variance > 1e-12 * Math.max(1, m * m) ? Math.sqrt(variance) : 1;
  }
  return { mean, std };
}

/** (x − mean) / std of the given rows (all when absent), as a new set. */
export function standardizeRows(set: HeadSet, stats: Standardization, rows?: Int32Array): HeadSet {
  const { dim } = set;
  const count = rows ? rows.length : set.rows;
  const features = new Float32Array(count * dim);
  const labelIndex = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const row = rows ? rows[i]! : i;
    const from = row * dim;
    const to = i * dim;
    for (let j = 0; j < dim; j++) features[to + j] = (set.features[from + j]! - stats.mean[j]!) / stats.std[j]!;
    labelIndex[i] = set.labelIndex[row]!;
  }
  return { features, dim, rows: count, labelIndex };
}

/**
 * Puts the standardization inside the head: its first Dense layer becomes W' = W / std (row j divided by
 * std_j) and b' = b − (mean / std)·W, so the model on raw features computes exactly what it computed on
 * standardized ones. The saved head is then an ordinary Dense stack: /classify, fine-tuning from the head
 * and the ONNX export all apply the standardization with no side channel and no custom layer.
 */
export function foldStandardization(model: tf.LayersModel, stats: Standardization): void {
  const first = denseLayers(model)[0]!;
  const [kernel, bias] = first.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  const folded = tf.tidy(() => {
    const std = tf.tensor2d(stats.std, [stats.std.length, 1]);
    const scaled = tf.div(kernel, std);
    const shift = tf.matMul(tf.tensor2d(stats.mean, [1, stats.mean.length]), scaled).reshape([-1]);
    return [scaled, tf.sub(bias, shift)];
  });
  first.setWeights(folded);
  tf.dispose(folded);
}

/**
 * Divides the last Dense layer's logits by `temperature` (temperature scaling, Guo et al. 2017): the
 * head's softmax then gives the calibrated probabilities; the predicted class does not change.
 */
export function foldTemperature(model: tf.LayersModel, temperature: number): void {
  const layers = denseLayers(model);
  const last = layers[layers.length - 1]!;
  const scaled = tf.tidy(() => last.getWeights().map((w) => tf.div(w, temperature)));
  last.setWeights(scaled);
  tf.dispose(scaled);
}
