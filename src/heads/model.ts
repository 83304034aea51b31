import { tf } from '../engine/backend.js';
import type { ResolvedHeadSpec } from './types.js';

/** Layer names are fixed so a saved head loads by name and reads the same in every tool. */
export const denseName = (i: number) => `head_dense_${i}`;
export const dropoutName = (i: number) => `head_dropout_${i}`;
export const PREDICTIONS_NAME = 'head_predictions';

type ModelSpec = Pick<ResolvedHeadSpec, 'hidden' | 'activation' | 'dropout' | 'seed' | 'l2'>;

/**
 * Builds Input[dim] → (Dense(h, activation) → Dropout(d))* → Dense(classes, softmax), Keras' defaults
 * for initializers (Glorot-uniform kernels, zero biases), each kernel seeded from `seed` so the same spec
 * starts from the same weights. Dropout layers carry no seed: TF.js would then repeat one mask every
 * batch; the engines draw their own seeded masks. The caller owns the model.
 */
export function buildHeadModel(dim: number, numClasses: number, spec: ModelSpec): tf.LayersModel {
  const regularizer = spec.l2 > 0 ? tf.regularizers.l2({ l2: spec.l2 }) : undefined;
  const dense = (units: number, index: number, name: string, activation: 'softmax' | ModelSpec['activation']) =>
    tf.layers.dense({
      units,
      activation,
      name,
      kernelInitializer: tf.initializers.glorotUniform({ seed: (spec.seed + index) >>> 0 }),
      biasInitializer: 'zeros',
      kernelRegularizer: regularizer,
      ...(index === 0 ? { inputShape: [dim] } : {}),
    });
  const model = tf.sequential({ name: 'head' });
  spec.hidden.forEach((units, i) => {
    model.add(dense(units, i, denseName(i + 1), spec.activation));
    if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout, name: dropoutName(i + 1) }));
  });
  model.add(dense(numClasses, spec.hidden.length, PREDICTIONS_NAME, 'softmax'));
  return model;
}

/** The Dense layers' [kernel, bias] pairs in order, as copies in plain arrays (for the js engine). */
export function readDenseWeights(model: tf.LayersModel): { kernel: Float32Array; bias: Float32Array; inputs: number; units: number }[] {
  return denseLayers(model).map((layer) => {
    const [kernel, bias] = layer.getWeights();
    return {
      // Copies: on the cpu backend dataSync() hands out the tensor's own storage.
      kernel: Float32Array.from(kernel.dataSync()),
      bias: Float32Array.from(bias.dataSync()),
      inputs: kernel.shape[0],
      units: kernel.shape[1] as number,
    };
  });
}

/** Writes [kernel, bias] pairs back into the model's Dense layers (the variables copy them). */
export function writeDenseWeights(model: tf.LayersModel, weights: { kernel: Float32Array; bias: Float32Array; inputs: number; units: number }[]): void {
  const tensors = weights.flatMap((w) => [tf.tensor2d(w.kernel.slice(), [w.inputs, w.units]), tf.tensor1d(w.bias.slice())]);
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

export function denseLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((layer) => layer.getClassName() === 'Dense');
}

/** Input width of a head (or any single-input model). */
export function inputDim(model: tf.LayersModel): number {
  const shape = model.inputs[0].shape;
  return shape[shape.length - 1] as number;
}
