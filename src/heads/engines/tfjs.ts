import { tf } from '../../engine/backend.js';
import { gatherRows } from '../dataset.js';
import { PROBABILITY_EPSILON } from '../metrics.js';
import { denseLayers } from '../model.js';
import { fillDropoutMask, mulberry32, type Random } from '../random.js';
import { yieldAndCheck } from './abort.js';
import { ModelTrainer } from './model-trainer.js';
import type { EngineContext, EpochStats, HeadTrainer } from './types.js';

/**
 * Where batches come from. 'host' (default): rows copied from the Float32Array into a fresh tensor per
 * batch. 'gather': the training set uploaded once as one tensor, batches cut with tf.gather (measured
 * slower on wasm: its Gather kernel copies row by row, ~36 ms per 256 × 2048 rows; kept for the benchmark).
 */
export type TfjsBatching = 'host' | 'gather';

interface DenseVariables {
  kernel: tf.Variable;
  bias: tf.Variable;
  units: number;
}

/**
 * The hand-written TF.js loop: forward and backward written out op by op, Adam from TF.js. Why not
 * autograd (`optimizer.minimize`) or `model.fit`: both differentiate the first Dense layer as
 * matMul(x, dy, transposeA=true), which the wasm backend runs ~35× slower than a plain product
 * (0.5 vs 18 GFLOP/s measured here), and that one product is half of all the work. Here every large
 * product is a plain one: x·W forward, xᵀ·δ backward with xᵀ transposed explicitly (≈4 ms per 256 rows;
 * building xᵀ on the host instead measured no faster).
 */
class TfjsTrainer extends ModelTrainer {
  private readonly layers: DenseVariables[];
  private readonly optimizer: tf.AdamOptimizer;
  private readonly activation: tf.layers.Layer;
  private readonly activationGradient: (z: tf.Tensor, dy: tf.Tensor) => tf.Tensor;
  private readonly dropoutRandom: Random;
  private allRows: tf.Tensor2D | undefined;
  private disposed = false;

  constructor(context: EngineContext, batching: TfjsBatching = 'host') {
    super(context);
    if (batching === 'gather') this.allRows = tf.tensor2d(context.train.features, [context.train.rows, context.train.dim]);
    this.layers = denseLayers(context.model).map((layer) => {
      const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      return { kernel, bias, units: bias.size };
    });
    this.optimizer = tf.train.adam(context.spec.learningRate);
    this.activation = tf.layers.activation({ activation: context.spec.activation });
    const activate = (z: tf.Tensor) => this.activation.apply(z) as tf.Tensor;
    this.activationGradient = tf.grad(activate);
    this.dropoutRandom = mulberry32(context.dropoutSeed);
  }

  /** Host-side inputs of one batch: rows, one-hot targets scaled by class weight / rows, dropout masks. */
  private batchInputs(order: Int32Array, start: number, end: number) {
    const { train, numClasses, classWeights, spec } = this.context;
    const rows = end - start;
    // Host rows, or row indices to gather. A fresh buffer per batch: the cpu backend keeps the array it is given.
    const x: Float32Array | Int32Array = this.allRows ? order.slice(start, end) : gatherRows(train, order, start, end, new Float32Array(rows * train.dim));
    const targets = new Float32Array(rows * numClasses);
    const weights = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      const c = train.labelIndex[order[start + i]];
      targets[i * numClasses + c] = 1;
      weights[i] = classWeights[c];
    }
    const masks = spec.dropout > 0
      ? this.layers.slice(0, -1).map(({ units }) => fillDropoutMask(new Float32Array(rows * units), rows * units, spec.dropout, this.dropoutRandom))
      : [];
    return { rows, x, targets, weights, masks };
  }

  /** Forward pass in training mode, keeping each layer's input and pre-activation for the backward pass. */
  private forward(x: tf.Tensor2D, masks: tf.Tensor2D[]): { inputs: tf.Tensor2D[]; preActivations: tf.Tensor2D[]; probs: tf.Tensor2D } {
    const inputs: tf.Tensor2D[] = [x];
    const preActivations: tf.Tensor2D[] = [];
    this.layers.slice(0, -1).forEach(({ kernel, bias }, l) => {
      const z = tf.add(tf.matMul(inputs[l], kernel as tf.Tensor2D), bias) as tf.Tensor2D;
      const y = this.activation.apply(z) as tf.Tensor2D;
      preActivations.push(z);
      inputs.push(masks.length ? tf.mul(y, masks[l]) : y);
    });
    const top = this.layers[this.layers.length - 1];
    const probs = tf.softmax(tf.add(tf.matMul(inputs[inputs.length - 1], top.kernel as tf.Tensor2D), top.bias)) as tf.Tensor2D;
    return { inputs, preActivations, probs };
  }

  /** Keras' training loss: mean over rows of class weight × cross-entropy (clipped as Keras clips), plus L2. */
  private loss(probs: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
    const clipped = tf.clipByValue(probs, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    const rowLoss = tf.neg(tf.sum(tf.mul(targets, tf.log(clipped)), 1, true));
    const dataLoss = tf.div(tf.sum(tf.mul(rowLoss, weights)), probs.shape[0]);
    const { l2 } = this.context.spec;
    if (l2 === 0) return dataLoss as tf.Scalar;
    return tf.add(dataLoss, tf.mul(l2, tf.addN(this.layers.map((l) => tf.sum(tf.square(l.kernel)))))) as tf.Scalar;
  }

  /** Gradients of the loss, output layer first. d(loss)/d(logits) through softmax is (p − y) · w / rows. */
  private backward(forward: ReturnType<TfjsTrainer['forward']>, targets: tf.Tensor2D, weights: tf.Tensor2D, masks: tf.Tensor2D[]) {
    const { l2 } = this.context.spec;
    let delta = tf.mul(tf.sub(forward.probs, targets), tf.div(weights, targets.shape[0])) as tf.Tensor2D;
    const gradients: { name: string; tensor: tf.Tensor }[] = [];
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const { kernel, bias } = this.layers[l];
      // An explicit transpose then a plain product: transposeA=true is the wasm backend's slow path.
      let kernelGradient: tf.Tensor = tf.matMul(tf.transpose(forward.inputs[l]), delta);
      if (l2 > 0) kernelGradient = tf.add(kernelGradient, tf.mul(2 * l2, kernel));
      gradients.push({ name: kernel.name, tensor: kernelGradient }, { name: bias.name, tensor: tf.sum(delta, 0) });
      if (l === 0) break;
      let upstream = tf.matMul(delta, tf.transpose(kernel));
      if (masks.length) upstream = tf.mul(upstream, masks[l - 1]);
      delta = this.activationGradient(forward.preActivations[l - 1], upstream) as tf.Tensor2D;
    }
    return gradients;
  }

  /** One Adam step on a batch; returns the batch's loss and its number of correct predictions. */
  private step(batch: ReturnType<TfjsTrainer['batchInputs']>): { loss: number; correct: number } {
    const { train, numClasses } = this.context;
    const { rows } = batch;
    return tf.tidy(() => {
      const x = this.allRows
        ? (tf.gather(this.allRows, tf.tensor1d(batch.x as Int32Array, 'int32')) as tf.Tensor2D)
        : tf.tensor2d(batch.x as Float32Array, [rows, train.dim]);
      const targets = tf.tensor2d(batch.targets, [rows, numClasses]);
      const weights = tf.tensor2d(batch.weights, [rows, 1]);
      const masks = batch.masks.map((m, l) => tf.tensor2d(m, [rows, this.layers[l].units]));
      const forward = this.forward(x, masks);
      const loss = this.loss(forward.probs, targets, weights);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(forward.probs, 1), tf.argMax(targets, 1)), 'int32'));
      this.optimizer.applyGradients(this.backward(forward, targets, weights, masks));
      return { loss: loss.dataSync()[0], correct: correct.dataSync()[0] };
    });
  }

  async trainEpoch(order: Int32Array, signal?: AbortSignal): Promise<EpochStats> {
    const batchSize = Math.min(this.context.spec.batchSize, order.length);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      await yieldAndCheck(signal);
      const batch = this.batchInputs(order, start, Math.min(order.length, start + batchSize));
      const result = this.step(batch);
      lossSum += result.loss * batch.rows;
      correct += result.correct;
    }
    return { loss: lossSum / order.length, accuracy: correct / order.length };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeSnapshot();
    tf.dispose(this.allRows);
    this.optimizer.dispose();
  }
}

export const createTfjsTrainer = (context: EngineContext, batching: TfjsBatching = 'host'): HeadTrainer => new TfjsTrainer(context, batching);
