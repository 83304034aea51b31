import type { tf } from '../../engine/backend.js';
import type { HeadSet } from '../dataset.js';
import type { ResolvedHeadSpec } from '../types.js';

export interface EpochStats {
  loss: number;
  accuracy: number;
}

/** What every engine gets: the model to train in place (its initial weights are the seeded init). */
export interface EngineContext {
  model: tf.LayersModel;
  spec: ResolvedHeadSpec;
  train: HeadSet;
  numClasses: number;
  /** Loss weight per class index (all 1 without class weights). */
  classWeights: Float32Array;
  /** Seeds the dropout masks. */
  dropoutSeed: number;
}

/**
 * One training run. The epoch loop (early stopping, logging) lives in train.ts; an engine only knows
 * how to run an epoch, evaluate, and keep/restore a copy of its weights.
 */
export interface HeadTrainer {
  /**
   * One pass over `order` (training-row indices, already shuffled) in batches of spec.batchSize.
   * Loss is Keras' training loss: mean over rows of class weight × cross-entropy, plus the L2 penalty,
   * averaged over batches by size. Throws TrainingAbortedError when `signal` fires between batches.
   */
  trainEpoch(order: Int32Array, signal?: AbortSignal): Promise<EpochStats>;
  /** Unweighted mean cross-entropy and accuracy in inference mode (Keras' val_loss / val_accuracy). */
  evaluate(set: HeadSet): EpochStats;
  /** Keeps a copy of the current weights (replacing an earlier one). */
  snapshot(): void;
  /** Puts the snapshot back, if any. */
  restoreSnapshot(): void;
  /** Leaves the final weights in the model and frees everything else (optimizer state, snapshot). Idempotent. */
  dispose(): void;
}

export type TrainerFactory = (context: EngineContext) => HeadTrainer;
