import { tf } from '../engine/backend.js';
import { InvalidArgumentError, listValues } from '../errors.js';
import type { PreprocessMode } from '../zoo/types.js';

export const PREPROCESS_MODES: readonly PreprocessMode[] = ['caffe', 'tf', 'torch'];

// Keras imagenet_utils constants. caffe's mean is in BGR order (applied after the channel flip).
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
export const TORCH_MEAN = [0.485, 0.456, 0.406] as const;
export const TORCH_STD = [0.229, 0.224, 0.225] as const;

// The same constants rounded to float32, as numpy and TF.js hold them, so that preprocessInto's
// arithmetic reproduces the tensor path bit for bit.
const F32_CAFFE_MEAN_BGR = CAFFE_MEAN_BGR.map(Math.fround);
const F32_TORCH_MEAN = TORCH_MEAN.map(Math.fround);
const F32_TORCH_STD = TORCH_STD.map(Math.fround);

/**
 * Keras `imagenet_utils.preprocess_input(x, mode)` for channels-last data:
 * - caffe: RGB → BGR, then minus the ImageNet mean [103.939, 116.779, 123.68] (BGR order), no scaling;
 * - tf: x / 127.5 − 1 (range −1…1);
 * - torch: x / 255, minus [0.485, 0.456, 0.406], divided by [0.229, 0.224, 0.225] (RGB order).
 * `x` holds 0–255 values, any rank with 3 channels last ('tf' accepts any shape, as Keras).
 * Returns a new float32 tensor the caller owns; `x` is left untouched.
 */
export function preprocessInput(x: tf.Tensor, mode: PreprocessMode): tf.Tensor {
  validateMode(mode);
  if (mode !== 'tf' && x.shape[x.shape.length - 1] !== 3) {
    throw new InvalidArgumentError(
      `preprocessInput mode '${mode}' needs 3 channels last (RGB), got shape [${x.shape.join(', ')}].`,
    );
  }
  return tf.tidy(() => {
    const input = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    switch (mode) {
      case 'tf':
        return tf.sub(tf.div(input, 127.5), 1);
      case 'torch':
        return tf.div(tf.sub(tf.div(input, 255), tf.tensor1d([...TORCH_MEAN])), tf.tensor1d([...TORCH_STD]));
      case 'caffe':
        return tf.sub(tf.reverse(input, -1), tf.tensor1d([...CAFFE_MEAN_BGR]));
    }
  });
}

/**
 * The hot-path twin of `preprocessInput`: writes one image's preprocessed floats (HWC RGB bytes in,
 * HWC float32 out, BGR for caffe) into `out` starting at `offset`, e.g. one slot of a batch buffer,
 * without creating tensors. Every step is rounded to float32, so the result equals `preprocessInput`.
 */
export function preprocessInto(pixels: Uint8Array, out: Float32Array, offset: number, mode: PreprocessMode): void {
  validateMode(mode);
  if (pixels.length % 3 !== 0) {
    throw new InvalidArgumentError(`preprocessInto needs RGB pixels (a multiple of 3 bytes), got ${pixels.length} bytes.`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + pixels.length > out.length) {
    throw new InvalidArgumentError(
      `preprocessInto cannot write ${pixels.length} values at offset ${offset} into a buffer of ${out.length}.`,
    );
  }
  const write = WRITERS[mode];
  write(pixels, out, offset);
}

type Writer = (pixels: Uint8Array, out: Float32Array, offset: number) => void;

const f32 = Math.fround;

/**
 * Each mode's output for every byte value of each input channel (3 × 256 float32), computed once with
 * the arithmetic below: a table lookup per value then writes the very floats that arithmetic would (the
 * store into a Float32Array rounds both alike), at a fraction of the cost per pixel.
 */
function table(value: (byte: number, channel: number) => number): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let b = 0; b < 256; b++) lut[c * 256 + b] = value(b, c);
  return lut;
}

const TF = table((b) => f32(b / 127.5) - 1);
const TORCH = table((b, c) => f32(f32(b / 255) - F32_TORCH_MEAN[c]!) / F32_TORCH_STD[c]!);
// Indexed by the output (BGR) channel: output channel c reads input channel 2 - c.
const CAFFE = table((b, c) => b - F32_CAFFE_MEAN_BGR[c]!);

const WRITERS: Record<PreprocessMode, Writer> = {
  tf(pixels, out, offset) {
    const n = pixels.length;
    for (let i = 0; i < n; i++) out[offset + i] = TF[pixels[i]!]!;
  },
  torch(pixels, out, offset) {
    const n = pixels.length;
    for (let i = 0; i < n; i += 3) {
      out[offset + i] = TORCH[pixels[i]!]!;
      out[offset + i + 1] = TORCH[256 + pixels[i + 1]!]!;
      out[offset + i + 2] = TORCH[512 + pixels[i + 2]!]!;
    }
  },
  caffe(pixels, out, offset) {
    const n = pixels.length;
    for (let i = 0; i < n; i += 3) {
      out[offset + i] = CAFFE[pixels[i + 2]!]!;
      out[offset + i + 1] = CAFFE[256 + pixels[i + 1]!]!;
      out[offset + i + 2] = CAFFE[512 + pixels[i]!]!;
    }
  },
};

function validateMode(mode: string): asserts mode is PreprocessMode {
  if (!PREPROCESS_MODES.includes(mode as PreprocessMode)) {
    throw new InvalidArgumentError(`Unknown preprocess mode '${mode}': expected ${listValues(PREPROCESS_MODES)}.`);
  }
}
