import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../../errors.js';

/** '[null, 224, 224, 3]': Array.join would print null as nothing. */
export const formatShape = (shape: ReadonlyArray<number | string | null>): string => `[${shape.map((d) => String(d)).join(', ')}]`;

/** The image size and per-image output shape of a single-input, single-output TF.js image model. */
export function imageModelIO(model: tf.LayersModel): { inputSize: [number, number]; outputShape: number[] } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new InvalidArgumentError(
      `An extractor needs a model with one input and one output; '${model.name}' has ${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  const input = model.inputs[0].shape;
  const [, h, w, c] = input;
  if (input.length !== 4 || c !== 3 || typeof h !== 'number' || typeof w !== 'number') {
    throw new InvalidArgumentError(
      `An extractor needs a fixed-size RGB image input [null, height, width, 3]; '${model.name}' takes ${formatShape(input)}. ` +
        'Build the model with an explicit inputShape.',
    );
  }
  const output = model.outputs[0].shape.slice(1);
  if (!output.every((d): d is number => typeof d === 'number')) {
    throw new InvalidArgumentError(`The output shape of '${model.name}' is not fixed: ${formatShape(model.outputs[0].shape)}.`);
  }
  return { inputSize: [h, w], outputShape: output };
}

/** Checks that `batch` holds exactly `n` preprocessed NHWC RGB images of `inputSize`. */
export function checkBatch(batch: Float32Array, n: number, [h, w]: readonly [number, number]): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`Batch size must be a positive integer, got ${n}.`);
  const expected = n * h * w * 3;
  if (batch.length !== expected) {
    throw new InvalidArgumentError(`A batch of ${n} image(s) of ${h}×${w}×3 needs ${expected} values, got ${batch.length}.`);
  }
}

/** Reorders a batch of NHWC images to NCHW (for models that take channels first). */
export function nhwcToNchw(batch: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(batch.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) out[base + ch * plane + p] = batch[base + p * c + ch];
    }
  }
  return out;
}
