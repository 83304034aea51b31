import type * as tf from '@tensorflow/tfjs';

/**
 * A layer's weight as float32 values, found by its Keras name ('kernel', 'bias', 'moving_mean'…).
 * `layer.weights` are the live variables: they are read, never disposed. The data may be the
 * backend's own copy (cpu): treat it as read-only. Not copied again: VGG's fc1 alone is 400 MB.
 */
export function readWeight(layer: tf.layers.Layer, weightName: string): { data: Float32Array; shape: number[] } {
  const variable = layer.weights.find((w) => w.originalName === weightName || w.originalName.endsWith(`/${weightName}`));
  if (!variable) {
    const present = layer.weights.map((w) => w.originalName).join(', ') || 'none';
    throw new Error(`layer '${layer.name}' has no weight '${weightName}' (it has: ${present})`);
  }
  const values = variable.read().dataSync();
  return { data: values instanceof Float32Array ? values : Float32Array.from(values), shape: [...variable.shape] as number[] };
}

/** Whether the layer holds a weight of that Keras name. */
export function hasWeight(layer: tf.layers.Layer, weightName: string): boolean {
  return layer.weights.some((w) => w.originalName === weightName || w.originalName.endsWith(`/${weightName}`));
}

/** Reorders a 4-D array by `perm` (out axis i = in axis perm[i]). */
function transpose4d(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const outShape = perm.map((p) => shape[p]);
  const [s0, s1, s2, s3] = perm.map((p) => strides[p]);
  const out = new Float32Array(data.length);
  let o = 0;
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++) out[o++] = data[a * s0 + b * s1 + c * s2 + d * s3];
  return out;
}

/** TF conv kernel [kh, kw, in, out] (HWIO) → ONNX [out, in, kh, kw] (OIHW). */
export function hwioToOihw(data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, cout] = shape;
  return { data: transpose4d(data, shape, [3, 2, 0, 1]), dims: [cout, cin, kh, kw] };
}

/**
 * TF depthwise kernel [kh, kw, channels, multiplier] → ONNX grouped-conv weight [channels·multiplier, 1, kh, kw]:
 * TF's output channel c·M + m is ONNX group c's output m, so the order is [c, m, kh, kw].
 */
export function depthwiseToOnnx(data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  const [kh, kw, channels, multiplier] = shape;
  return { data: transpose4d(data, shape, [2, 3, 0, 1]), dims: [channels * multiplier, 1, kh, kw] };
}
