import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { preprocessInput, preprocessInto } from '../../../src/image/preprocess.js';
import type { PreprocessMode } from '../../../src/zoo/types.js';
import { expectNoLeak } from '../../helpers/tf.js';

beforeAll(async () => {
  await initBackend();
});

/** Two RGB pixels: [10, 20, 30] and [0, 128, 255]. */
const PIXELS = [10, 20, 30, 0, 128, 255];

// Worked by hand from Keras imagenet_utils.preprocess_input (channels_last).
const EXPECTED: Record<PreprocessMode, number[]> = {
  // RGB → BGR, minus [103.939, 116.779, 123.68]
  caffe: [30 - 103.939, 20 - 116.779, 10 - 123.68, 255 - 103.939, 128 - 116.779, 0 - 123.68],
  // x / 127.5 − 1
  tf: [10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1, -1, 128 / 127.5 - 1, 1],
  // (x / 255 − mean) / std, RGB order
  torch: [
    (10 / 255 - 0.485) / 0.229,
    (20 / 255 - 0.456) / 0.224,
    (30 / 255 - 0.406) / 0.225,
    -0.485 / 0.229,
    (128 / 255 - 0.456) / 0.224,
    (1 - 0.406) / 0.225,
  ],
};

describe('preprocessInput', () => {
  it.each(['caffe', 'tf', 'torch'] as const)('%s matches Keras values', (mode) => {
    const x = tf.tensor4d(PIXELS, [1, 1, 2, 3]);

    const y = preprocessInput(x, mode);

    expect(y.shape).toEqual([1, 1, 2, 3]);
    expect(y.dtype).toBe('float32');
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(EXPECTED[mode][i]!, 5));
    tf.dispose([x, y]);
  });

  it('leaves its input untouched, accepts int32 and 3-D images, and leaks nothing', async () => {
    const x = tf.tensor3d(PIXELS, [1, 2, 3], 'int32');

    const values = await expectNoLeak(() => {
      const y = preprocessInput(x, 'caffe');
      const data = Array.from(y.dataSync());
      y.dispose();
      return data;
    });

    expect(Array.from(x.dataSync())).toEqual(PIXELS);
    values.forEach((v, i) => expect(v).toBeCloseTo(EXPECTED.caffe[i]!, 4));
    x.dispose();
  });

  it("'tf' mode is shape-agnostic like Keras; caffe and torch need 3 channels last", () => {
    const grey = tf.tensor2d([0, 255], [2, 1]);

    const scaled = preprocessInput(grey, 'tf');

    expect(Array.from(scaled.dataSync())).toEqual([-1, 1]);
    expect(() => preprocessInput(grey, 'caffe')).toThrow(InvalidArgumentError);
    expect(() => preprocessInput(grey, 'torch')).toThrow("preprocessInput mode 'torch' needs 3 channels last (RGB), got shape [2, 1].");
    tf.dispose([grey, scaled]);
  });

  it('rejects an unknown mode, listing the valid ones', () => {
    const x = tf.zeros([1, 3]);

    expect(() => preprocessInput(x, 'imagenet' as PreprocessMode)).toThrow("Unknown preprocess mode 'imagenet': expected 'caffe', 'tf' or 'torch'.");
    x.dispose();
  });
});

describe('preprocessInto', () => {
  it.each(['caffe', 'tf', 'torch'] as const)('%s writes the same float32 values as preprocessInput, bit for bit', (mode) => {
    // Every byte value in every channel: 256 pixels.
    const pixels = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));
    const out = new Float32Array(5 + pixels.length + 5).fill(42);

    preprocessInto(pixels, out, 5, mode);
    const reference = tf.tidy(() => preprocessInput(tf.tensor2d(pixels, [256, 3], 'float32'), mode).dataSync());

    expect(Array.from(out.subarray(5, 5 + pixels.length))).toEqual(Array.from(reference));
    expect([...out.subarray(0, 5), ...out.subarray(5 + pixels.length)]).toEqual(new Array(10).fill(42));
  });

  it.each(['caffe', 'tf', 'torch'] as const)('%s matches the hand-computed values', (mode) => {
    const out = new Float32Array(6);

    preprocessInto(new Uint8Array(PIXELS), out, 0, mode);

    Array.from(out).forEach((v, i) => expect(v).toBeCloseTo(EXPECTED[mode][i]!, 5));
  });

  it('fills consecutive slots of a batch buffer', () => {
    const batch = new Float32Array(12);

    preprocessInto(new Uint8Array([0, 0, 0, 0, 0, 0]), batch, 0, 'tf');
    preprocessInto(new Uint8Array([255, 255, 255, 255, 255, 255]), batch, 6, 'tf');

    expect(Array.from(batch)).toEqual([-1, -1, -1, -1, -1, -1, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses to write past the end of the buffer or with a bad mode', () => {
    expect(() => preprocessInto(new Uint8Array(6), new Float32Array(8), 3, 'tf')).toThrow(
      'preprocessInto cannot write 6 values at offset 3 into a buffer of 8.',
    );
    expect(() => preprocessInto(new Uint8Array(4), new Float32Array(8), 0, 'tf')).toThrow(InvalidArgumentError);
    expect(() => preprocessInto(new Uint8Array(3), new Float32Array(3), 0, 'keras' as PreprocessMode)).toThrow(/expected 'caffe', 'tf' or 'torch'/);
  });
});
