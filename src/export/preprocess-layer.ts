import { tf } from '../engine/backend.js';
import { CAFFE_MEAN_BGR, TORCH_MEAN, TORCH_STD } from '../image/preprocess.js';
import type { PreprocessMode } from '../zoo/types.js';

/** The preprocessing layer's name in an exported graph. */
export const PREPROCESS_LAYER = 'preprocess_input';

/**
 * Keras `preprocess_input` of one mode as an affine per-channel map on RGB 0–255 values: out[c] = Σₖ x[k]·kernel[k][c] + bias[c].
 * `kernel` is [3 in × 3 out] row-major, the layout of a 1×1 Conv2D kernel [1, 1, 3, 3]; caffe's RGB → BGR flip is
 * its permutation (out channel c reads in channel 2 − c), tf and torch are diagonal.
 */
export interface AffineMap {
  kernel: Float32Array;
  bias: Float32Array;
}

export function preprocessAffine(mode: PreprocessMode): AffineMap {
  const kernel = new Float32Array(9);
  const bias = new Float32Array(3);
  for (let c = 0; c < 3; c++) {
    switch (mode) {
      case 'tf': // x / 127.5 − 1
        kernel[c * 3 + c] = 1 / 127.5;
        bias[c] = -1;
        break;
      case 'torch': // (x / 255 − mean) / std
        kernel[c * 3 + c] = 1 / (255 * TORCH_STD[c]!);
        bias[c] = -TORCH_MEAN[c]! / TORCH_STD[c]!;
        break;
      case 'caffe': // BGR, minus the BGR mean
        kernel[(2 - c) * 3 + c] = 1;
        bias[c] = -CAFFE_MEAN_BGR[c]!;
        break;
    }
  }
  return { kernel, bias };
}

/**
 * `preprocess_input(mode)` applied to `input` (RGB 0–255, [N, H, W, 3]) as a fixed 1×1 Conv2D, not trainable: a
 * standard layer that TF.js loads without custom classes and that the ONNX exporter translates, so a graph that
 * starts with it takes raw pixels. Its outputs equal `preprocessInput`'s to float32 rounding (about 1e-7).
 * The layer's weights belong to the model built on its output.
 */
export function applyPreprocess(input: tf.SymbolicTensor, mode: PreprocessMode, name = PREPROCESS_LAYER): tf.SymbolicTensor {
  const layer = tf.layers.conv2d({ name, filters: 3, kernelSize: 1, useBias: true, trainable: false });
  const output = layer.apply(input) as tf.SymbolicTensor;
  const { kernel, bias } = preprocessAffine(mode);
  const weights = [tf.tensor4d(kernel, [1, 1, 3, 3]), tf.tensor1d(bias)];
  try {
    layer.setWeights(weights);
  } finally {
    tf.dispose(weights);
  }
  return output;
}
