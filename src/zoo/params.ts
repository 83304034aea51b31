import type * as tf from '@tensorflow/tfjs';

export interface ParamCounts {
  total: number;
  trainable: number;
  /** Weights no optimiser updates: BatchNormalization moving mean and variance, frozen layers. */
  nonTrainable: number;
}

function countWeights(weights: ReadonlyArray<{ shape: readonly (number | null)[] }>): number {
  // Weight shapes are always concrete; `null` only appears in the type.
  return weights.reduce((sum, w) => sum + w.shape.reduce<number>((n, d) => n * (d ?? 0), 1), 0);
}

/** Parameter counts as Keras `model.summary()` reports them. Reads shapes only; creates no tensor. */
export function countParams(model: tf.LayersModel): ParamCounts {
  const trainable = countWeights(model.trainableWeights);
  const nonTrainable = countWeights(model.nonTrainableWeights);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}
