import { tf } from '../../engine/backend.js';
import { gatherRows } from '../dataset.js';
import { throwIfAborted } from './abort.js';
import { ModelTrainer } from './model-trainer.js';
import type { EngineContext, EpochStats, HeadTrainer } from './types.js';

/**
 * Keras-style `model.compile` + `model.fit`, one fit call per epoch over our own shuffled order (so all
 * engines see the same batches). The reference the other engines are held to; slow on wasm (see tfjs.ts).
 * Dropout masks come from TF.js' unseeded random, so with dropout > 0 runs are not bit-repeatable.
 */
class FitTrainer extends ModelTrainer {
  private readonly optimizer: tf.Optimizer;
  private disposed = false;

  constructor(context: EngineContext) {
    super(context);
    this.optimizer = tf.train.adam(context.spec.learningRate);
    context.model.compile({ optimizer: this.optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  }

  async trainEpoch(order: Int32Array, signal?: AbortSignal): Promise<EpochStats> {
    throwIfAborted(signal);
    const { model, train, numClasses, classWeights, spec } = this.context;
    const targets = new Float32Array(order.length * numClasses);
    order.forEach((row, i) => (targets[i * numClasses + train.labelIndex[row]] = 1));
    const xs = tf.tensor2d(gatherRows(train, order, 0, order.length, new Float32Array(order.length * train.dim)), [order.length, train.dim]);
    const ys = tf.tensor2d(targets, [order.length, numClasses]);
    try {
      const history = await model.fit(xs, ys, {
        epochs: 1,
        batchSize: spec.batchSize,
        shuffle: false,
        verbose: 0,
        classWeight: spec.classWeights ? Object.fromEntries(Array.from(classWeights, (w, c) => [c, w])) : undefined,
        callbacks: {
          onBatchEnd: async () => {
            if (signal?.aborted) model.stopTraining = true;
          },
        },
      });
      throwIfAborted(signal);
      const logs = history.history;
      return { loss: Number(logs.loss[0]), accuracy: Number((logs.acc ?? logs.accuracy)[0]) };
    } finally {
      tf.dispose([xs, ys]);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeSnapshot();
    this.optimizer.dispose();
  }
}

export const createFitTrainer = (context: EngineContext): HeadTrainer => new FitTrainer(context);
