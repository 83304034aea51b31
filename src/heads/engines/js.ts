import { PROBABILITY_EPSILON, argMaxRow, lossAndAccuracy } from '../metrics.js';
import { gatherRows, type HeadSet } from '../dataset.js';
import { readDenseWeights, writeDenseWeights } from '../model.js';
import { fillDropoutMask, mulberry32, type Random } from '../random.js';
import { yieldAndCheck } from './abort.js';
import { JS_ACTIVATIONS, type JsActivation } from './js-activations.js';
import { JsAdam } from './js-adam.js';
import { addBias, columnSums, matMul, matMulTransposeA, matMulTransposeB } from './js-kernels.js';
import type { EngineContext, EpochStats, HeadTrainer } from './types.js';

interface DenseParams {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

/** One hidden layer's values for a batch: pre-activation z, activation y, output a = y × dropout mask. */
interface LayerBuffers {
  z: Float32Array;
  y: Float32Array;
  a: Float32Array;
  mask: Float32Array;
}

/** Rows per forward pass when evaluating (bounds the buffers). */
const EVAL_CHUNK_ROWS = 1024;

/**
 * The pure-JS engine: the head's weights copied out of the TF.js model into Float32Arrays, trained with
 * hand-written forward/backward passes and Adam, and written back at the end. It does not depend on the
 * TF.js backend at all, which makes it the fast choice where that backend is the plain-JS `cpu` one.
 */
class JsTrainer implements HeadTrainer {
  private readonly layers: DenseParams[];
  private readonly gradients: { kernel: Float32Array; bias: Float32Array }[];
  private readonly adam: JsAdam;
  private readonly activation: JsActivation;
  private readonly dropoutRandom: Random;
  private best: Float32Array[] | undefined;
  private disposed = false;

  constructor(private readonly context: EngineContext) {
    this.layers = readDenseWeights(context.model);
    this.gradients = this.layers.map((l) => ({ kernel: new Float32Array(l.kernel.length), bias: new Float32Array(l.bias.length) }));
    this.adam = new JsAdam(this.params().map((p) => p.length), context.spec.learningRate);
    this.activation = JS_ACTIVATIONS[context.spec.activation];
    this.dropoutRandom = mulberry32(context.dropoutSeed);
  }

  private params(): Float32Array[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  private allocate(rows: number): { x: Float32Array; hidden: LayerBuffers[]; logits: Float32Array } {
    return {
      x: new Float32Array(rows * this.context.train.dim),
      hidden: this.layers.slice(0, -1).map((l) => {
        const y = new Float32Array(rows * l.units);
        const withDropout = this.context.spec.dropout > 0;
        return {
          z: new Float32Array(rows * l.units),
          y,
          a: withDropout ? new Float32Array(rows * l.units) : y,
          mask: new Float32Array(withDropout ? rows * l.units : 0),
        };
      }),
      logits: new Float32Array(rows * this.context.numClasses),
    };
  }

  /** Forward pass over `rows` rows of `x`; leaves softmax probabilities in `logits`. */
  private forward(x: Float32Array, hidden: LayerBuffers[], logits: Float32Array, rows: number, training: boolean): void {
    const { dropout } = this.context.spec;
    const { forward } = this.activation;
    let input = x;
    hidden.forEach((buffers, l) => {
      const { kernel, bias, inputs, units } = this.layers[l];
      const n = rows * units;
      matMul(input, kernel, buffers.z, rows, inputs, units);
      addBias(buffers.z, bias, rows, units);
      const { z, y, a, mask } = buffers;
      for (let i = 0; i < n; i++) y[i] = forward(z[i]);
      if (dropout > 0 && training) {
        fillDropoutMask(mask, n, dropout, this.dropoutRandom);
        for (let i = 0; i < n; i++) a[i] = y[i] * mask[i];
      } else if (dropout > 0) {
        a.set(y.subarray(0, n));
      }
      input = a;
    });
    const out = this.layers[this.layers.length - 1];
    matMul(input, out.kernel, logits, rows, out.inputs, out.units);
    addBias(logits, out.bias, rows, out.units);
    softmaxRows(logits, rows, out.units);
  }

  private l2Penalty(): number {
    const { l2 } = this.context.spec;
    if (l2 === 0) return 0;
    let sum = 0;
    for (const { kernel } of this.layers) for (let i = 0; i < kernel.length; i++) sum += kernel[i] * kernel[i];
    return l2 * sum;
  }

  /**
   * Turns probabilities into dLoss/dlogits in place: (p − onehot) × classWeight / rows, the gradient of
   * mean(weight × cross-entropy) through softmax. Returns the batch's weighted loss sum and hits.
   */
  private lossGradient(probs: Float32Array, labels: Int32Array, rows: number): { weightedLoss: number; correct: number } {
    const { numClasses, classWeights } = this.context;
    let weightedLoss = 0;
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      const truth = labels[r];
      const weight = classWeights[truth];
      const offset = r * numClasses;
      const p = probs[offset + truth];
      weightedLoss += -weight * Math.log(Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p)));
      if (argMaxRow(probs, r, numClasses) === truth) correct++;
      const scale = weight / rows;
      for (let c = 0; c < numClasses; c++) probs[offset + c] = (probs[offset + c] - (c === truth ? 1 : 0)) * scale;
    }
    return { weightedLoss, correct };
  }

  private backward(x: Float32Array, hidden: LayerBuffers[], dLogits: Float32Array, rows: number, scratch: Float32Array[]): void {
    const { derivative } = this.activation;
    let delta = dLogits;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const { kernel, inputs, units } = this.layers[l];
      const input = l === 0 ? x : hidden[l - 1].a;
      matMulTransposeA(input, delta, this.gradients[l].kernel, rows, inputs, units);
      columnSums(delta, this.gradients[l].bias, rows, units);
      if (l === 0) break;
      // Gradient w.r.t. the previous layer's output, then through its dropout mask and activation.
      const below = hidden[l - 1];
      const next = scratch[l - 1];
      matMulTransposeB(delta, kernel, next, rows, units, inputs);
      const n = rows * inputs;
      const { z, y, mask } = below;
      if (this.context.spec.dropout > 0) for (let i = 0; i < n; i++) next[i] *= mask[i] * derivative(z[i], y[i]);
      else for (let i = 0; i < n; i++) next[i] *= derivative(z[i], y[i]);
      delta = next;
    }
    const { l2 } = this.context.spec;
    if (l2 > 0) {
      this.layers.forEach(({ kernel }, l) => {
        const grad = this.gradients[l].kernel;
        for (let i = 0; i < kernel.length; i++) grad[i] += 2 * l2 * kernel[i];
      });
    }
  }

  async trainEpoch(order: Int32Array, signal?: AbortSignal): Promise<EpochStats> {
    const { train, spec } = this.context;
    const batchSize = Math.min(spec.batchSize, order.length);
    const { x, hidden, logits } = this.allocate(batchSize);
    const scratch = hidden.map((h) => new Float32Array(h.z.length));
    const labels = new Int32Array(batchSize);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      await yieldAndCheck(signal);
      const end = Math.min(order.length, start + batchSize);
      const rows = end - start;
      gatherRows(train, order, start, end, x);
      for (let i = start; i < end; i++) labels[i - start] = train.labelIndex[order[i]];
      const penalty = this.l2Penalty();
      this.forward(x, hidden, logits, rows, true);
      const batch = this.lossGradient(logits, labels, rows);
      this.backward(x, hidden, logits, rows, scratch);
      this.adam.apply(this.params(), this.gradients.flatMap((g) => [g.kernel, g.bias]));
      lossSum += batch.weightedLoss + penalty * rows;
      correct += batch.correct;
    }
    return { loss: lossSum / order.length, accuracy: correct / order.length };
  }

  evaluate(set: HeadSet): EpochStats {
    const chunk = Math.min(EVAL_CHUNK_ROWS, set.rows);
    const { numClasses } = this.context;
    const { hidden, logits } = this.allocate(chunk);
    const probs = new Float32Array(set.rows * numClasses);
    for (let start = 0; start < set.rows; start += chunk) {
      const rows = Math.min(chunk, set.rows - start);
      const x = set.features.subarray(start * set.dim, (start + rows) * set.dim);
      this.forward(x, hidden, logits, rows, false);
      probs.set(logits.subarray(0, rows * numClasses), start * numClasses);
    }
    return lossAndAccuracy(probs, set.labelIndex, numClasses);
  }

  snapshot(): void {
    this.best = this.params().map((p) => p.slice());
  }

  restoreSnapshot(): void {
    if (this.best) this.params().forEach((p, i) => p.set(this.best![i]));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    writeDenseWeights(this.context.model, this.layers);
    this.best = undefined;
  }
}

/** Softmax of each row in place, shifted by the row max for stability. */
export function softmaxRows(values: Float32Array, rows: number, columns: number): void {
  for (let r = 0; r < rows; r++) {
    const offset = r * columns;
    let max = -Infinity;
    for (let c = 0; c < columns; c++) max = Math.max(max, values[offset + c]);
    let sum = 0;
    for (let c = 0; c < columns; c++) {
      const e = Math.exp(values[offset + c] - max);
      values[offset + c] = e;
      sum += e;
    }
    for (let c = 0; c < columns; c++) values[offset + c] /= sum;
  }
}

export const createJsTrainer = (context: EngineContext): HeadTrainer => new JsTrainer(context);
