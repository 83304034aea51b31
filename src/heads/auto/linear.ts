import { tf } from '../../engine/backend.js';
import type { HeadSet } from '../dataset.js';
import { minimizeLbfgs } from './lbfgs.js';

/** A softmax regression: logits = x·kernel + bias, kernel [dim, classes] row-major. */
export interface LinearWeights {
  kernel: Float32Array;
  bias: Float32Array;
}

export interface LinearFitOptions {
  /** Inverse L2 strength, as scikit-learn's C: minimizes C·Σ wᵢ·CEᵢ + ½‖kernel‖² (the bias is not penalized). */
  C: number;
  /** Loss weight per class index (all 1 without class weights). */
  classWeights: Float32Array;
  /** Start here (warm start along the C path); a copy is taken. @default zeros */
  init?: LinearWeights;
  /** @default 100 (scikit-learn's max_iter) */
  maxIterations?: number;
}

export interface LinearFit extends LinearWeights {
  iterations: number;
  converged: boolean;
}

/**
 * Fits an L2-regularized multinomial logistic regression with full-batch L-BFGS, scikit-learn's
 * LogisticRegression(solver='lbfgs') objective divided by C·n (same minimizer, a scale L-BFGS is
 * comfortable with), and its stopping rule: max |gradient| ≤ 1e-4 in its scale, or max_iter.
 * The two products per evaluation (x·W and xᵀ·δ) run in TF.js (XNNPACK on wasm: ~5× our own JS kernels),
 * with xᵀ transposed once (the wasm backend's transposed matMul is slow, see engines/tfjs.ts); the
 * optimizer's state stays on the host. Creates no tensor that outlives the call.
 */
export function fitLinear(set: HeadSet, numClasses: number, options: LinearFitOptions): LinearFit {
  const { rows, dim } = set;
  const k = numClasses;
  const lambda = 1 / (options.C * rows);
  const targets = new Float32Array(rows * k);
  const rowWeights = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = set.labelIndex[i];
    rowWeights[i] = options.classWeights[c] / rows;
    targets[i * k + c] = rowWeights[i];
  }
  const x = tf.tensor2d(set.features, [rows, dim]);
  const xT = tf.tidy(() => x.transpose() as tf.Tensor2D);
  const y = tf.tensor2d(targets, [rows, k]);
  const w = tf.tensor2d(rowWeights, [rows, 1]);
  const kernelSize = dim * k;
  const theta = new Float64Array(kernelSize + k);
  if (options.init) {
    theta.set(options.init.kernel);
    theta.set(options.init.bias, kernelSize);
  }
  const params = new Float32Array(kernelSize + k);
  const objective = (at: Float64Array, grad: Float64Array): number => {
    params.set(at);
    const [loss, gradKernel, gradBias] = tf.tidy(() => {
      const kernel = tf.tensor2d(params.subarray(0, kernelSize), [dim, k]);
      const bias = tf.tensor1d(params.subarray(kernelSize));
      const logProbs = tf.logSoftmax(tf.add(tf.matMul(x, kernel), bias));
      const data = tf.neg(tf.sum(tf.mul(y, logProbs)));
      // d(loss)/d(logits) = wᵢ·(pᵢ − onehotᵢ): probabilities scaled by the row weight, minus the weighted targets.
      const delta = tf.sub(tf.mul(tf.exp(logProbs), w), y);
      return [data, tf.matMul(xT, delta), tf.sum(delta, 0)];
    });
    const gk = gradKernel.dataSync();
    const gb = gradBias.dataSync();
    let penalty = 0;
    for (let j = 0; j < kernelSize; j++) {
      penalty += at[j] * at[j];
      grad[j] = gk[j] + lambda * at[j];
    }
    for (let c = 0; c < k; c++) grad[kernelSize + c] = gb[c];
    const value = loss.dataSync()[0] + 0.5 * lambda * penalty;
    tf.dispose([loss, gradKernel, gradBias]);
    return value;
  };
  try {
    const result = minimizeLbfgs(objective, theta, {
      // scikit-learn's tol 1e-4 on the gradient of C·Σ loss + ½‖w‖², here divided by C·n.
      gradientTolerance: 1e-4 * lambda,
      maxIterations: options.maxIterations ?? 100,
    });
    return { kernel: Float32Array.from(theta.subarray(0, kernelSize)), bias: Float32Array.from(theta.subarray(kernelSize)), ...result };
  } finally {
    tf.dispose([x, xT, y, w]);
  }
}

/** Logits [rows, classes] of a linear model on features [rows, dim] (host math: cheap next to fitting). */
export function linearLogits(weights: LinearWeights, features: Float32Array, rows: number, dim: number): Float32Array {
  const k = weights.bias.length;
  return tf.tidy(() => {
    const z = tf.add(tf.matMul(tf.tensor2d(features, [rows, dim]), tf.tensor2d(weights.kernel, [dim, k])), tf.tensor1d(weights.bias));
    return z.dataSync() as Float32Array;
  });
}
