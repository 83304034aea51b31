import { tf } from '../../engine/backend.js';
import type { HeadSet } from '../dataset.js';
import { lossAndAccuracy } from '../metrics.js';
import { predictHead } from '../predict.js';
import type { EngineContext, EpochStats, HeadTrainer } from './types.js';

/**
 * What the TF.js engines share: evaluation through the layers model, and the best-weights snapshot kept
 * as tensor clones. Subclasses train; `dispose` frees the snapshot through `disposeSnapshot`.
 */
export abstract class ModelTrainer implements HeadTrainer {
  private best: tf.Tensor[] | undefined;

  constructor(protected readonly context: EngineContext) {}

  abstract trainEpoch(order: Int32Array, signal?: AbortSignal): Promise<EpochStats>;
  abstract dispose(): void;

  evaluate(set: HeadSet): EpochStats {
    return lossAndAccuracy(predictHead(this.context.model, set.features, set.dim), set.labelIndex, this.context.numClasses);
  }

  snapshot(): void {
    tf.dispose(this.best);
    // Clones share the variables' current data; later assigns give the variables new data, not these.
    this.best = this.context.model.getWeights().map((w) => w.clone());
  }

  restoreSnapshot(): void {
    if (this.best) this.context.model.setWeights(this.best);
  }

  protected disposeSnapshot(): void {
    tf.dispose(this.best);
    this.best = undefined;
  }
}
