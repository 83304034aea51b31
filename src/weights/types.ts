/** One weight array of a layer, as float32, in the layer's own order. */
export interface WeightArray {
  /**
   * The weight's name relative to its layer, without the ':0' suffix: 'kernel', 'bias', 'gamma',
   * 'moving_mean', 'depthwise_kernel' … (files that name weights outside their layer's scope keep the
   * whole name, e.g. 'batch_normalization_1/gamma').
   */
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * The neutral in-memory form every reader produces and every writer consumes: layers by name,
 * each with its weights in Keras order (kernel, bias / gamma, beta, moving_mean, moving_variance /
 * depthwise_kernel …). Layers without weights are left out.
 */
export type LayerWeights = { layer: string; weights: WeightArray[] }[];

/** Which official file of a model: with the classifier ('top') or without it ('notop'). */
export type WeightsVariant = 'top' | 'notop';

export const variantOf = (includeTop: boolean): WeightsVariant => (includeTop ? 'top' : 'notop');

/** Number of float values in a tensor of this shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total number of parameters held by a LayerWeights. */
export function countParams(weights: LayerWeights): number {
  return weights.reduce((sum, l) => sum + l.weights.reduce((s, w) => s + w.data.length, 0), 0);
}

/** Strips a TF variable suffix (':0') and returns the weight name as stored. */
export function stripVariableSuffix(name: string): string {
  return name.replace(/:\d+$/, '');
}
