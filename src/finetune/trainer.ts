import { tf } from '../engine/backend.js';
import { PROBABILITY_EPSILON } from '../heads/metrics.js';
import type { Random } from '../heads/random.js';
import type { LayerWeights } from '../weights/index.js';
import type { FinetuneNetwork } from './network.js';

/** Adam's state in checkpoint form: slot arrays named `<layer>/<weight>/m|v` (stable across processes, unlike variable names). */
export interface OptimizerState {
  iterations: number;
  slots: LayerWeights;
}

const SLOT_GROUP = 'optimizer';

/** Mean categorical cross-entropy with Keras' clipping (the head core's loss). */
function crossEntropy(probs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const clipped = tf.clipByValue(probs, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.log(clipped)), 1))) as tf.Scalar;
}

/**
 * The optimisation half of fine-tuning: Adam steps on the trainable variables through the network's
 * trainable part (BatchNormalization in inference mode, seeded dropout), snapshots of the best epoch,
 * and the optimizer state a checkpoint keeps. Owns its optimizer and snapshot: call `dispose()`.
 */
export class FinetuneTrainer {
  private readonly optimizer: tf.AdamOptimizer;
  private readonly variables: tf.Variable[];
  /** Variable name → `<layer>/<weight>`: TF.js variable names get suffixes per process, these do not. */
  private readonly canonical: Map<string, string>;
  private best: tf.Tensor[] | undefined;

  constructor(
    private readonly network: FinetuneNetwork,
    learningRate: number,
  ) {
    this.variables = network.trainableVariables();
    this.canonical = new Map(network.model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
    this.optimizer = tf.train.adam(learningRate);
  }

  /** One Adam step on a batch's frontier activations; returns the batch's mean loss and its correct predictions. */
  step(frontier: readonly tf.Tensor[], labels: Int32Array, dropout: Random): { loss: number; correct: number } {
    let correct: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const probs = this.network.trainableForward(frontier, { dropout, differentiable: true });
      const truth = tf.tensor1d(labels, 'int32');
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), truth), 'int32')));
      return crossEntropy(probs, tf.oneHot(truth, this.network.numClasses) as tf.Tensor2D);
    }, this.variables);
    try {
      // In variable order: Adam matches its moment slots to variables by position.
      this.optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      return { loss: value.dataSync()[0]!, correct: correct!.dataSync()[0]! };
    } finally {
      tf.dispose([value, correct!, ...Object.values(grads)]);
    }
  }

  /** Keeps a copy of the trainable weights (the best epoch so far). */
  snapshot(): void {
    tf.dispose(this.best);
    this.best = this.variables.map((v) => v.clone());
  }

  /** Puts the snapshot back; no-op without one. */
  restoreSnapshot(): void {
    this.best?.forEach((value, i) => this.variables[i]!.assign(value));
  }

  /** The snapshot in checkpoint form, or undefined when there is none. */
  snapshotWeights(): LayerWeights | undefined {
    if (!this.best) return undefined;
    return [{ layer: 'best', weights: this.best.map((t, i) => this.hostArray(this.canonicalName(this.variables[i]!), t)) }];
  }

  /** Loads a snapshot saved by snapshotWeights (resuming a job whose best epoch is behind it). */
  loadSnapshot(weights: LayerWeights): void {
    const byName = new Map(weights.flatMap((l) => l.weights).map((w) => [w.name, w]));
    tf.dispose(this.best);
    this.best = this.variables.map((v) => {
      const saved = byName.get(this.canonicalName(v));
      if (!saved) throw new Error(`the best-epoch snapshot has no '${this.canonicalName(v)}'`);
      return tf.tensor(saved.data, saved.shape);
    });
  }

  async optimizerState(): Promise<OptimizerState> {
    const [iter, ...slots] = await this.optimizer.getWeights();
    try {
      const iterations = (await iter!.tensor.data())[0]!;
      const arrays = slots.map(({ name, tensor }) => {
        const cut = name.lastIndexOf('/');
        return this.hostArray(`${this.canonical.get(name.slice(0, cut)) ?? name.slice(0, cut)}${name.slice(cut)}`, tensor);
      });
      return { iterations, slots: [{ layer: SLOT_GROUP, weights: arrays }] };
    } finally {
      iter!.tensor.dispose();
    }
  }

  /** Restores Adam's step count and moments; slots are matched to this process's variables by canonical name. */
  async setOptimizerState(state: OptimizerState): Promise<void> {
    const byCanonical = new Map([...this.canonical].map(([variable, canonical]) => [canonical, variable]));
    const named = state.slots.flatMap((group) => group.weights).map((w) => {
      const cut = w.name.lastIndexOf('/');
      const variable = byCanonical.get(w.name.slice(0, cut));
      if (!variable) throw new Error(`the optimizer state has a slot for '${w.name.slice(0, cut)}', which does not train in this model`);
      return { name: `${variable}${w.name.slice(cut)}`, tensor: tf.tensor(w.data, w.shape) };
    });
    const iter = { name: 'iter', tensor: tf.scalar(state.iterations, 'int32') };
    try {
      await this.optimizer.setWeights([iter, ...named]);
    } finally {
      // setWeights made variables of its own from these.
      tf.dispose([iter.tensor, ...named.map((n) => n.tensor)]);
    }
  }

  dispose(): void {
    tf.dispose(this.best);
    this.best = undefined;
    this.optimizer.dispose();
  }

  private canonicalName(variable: tf.Variable): string {
    return this.canonical.get(variable.name) ?? variable.name;
  }

  private hostArray(name: string, tensor: tf.Tensor) {
    return { name, shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync() as Float32Array) };
  }
}
