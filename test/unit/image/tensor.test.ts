import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import type { DecodedImage } from '../../../src/image/load.js';
import { loadImage } from '../../../src/image/load.js';
import { imagesToTensor } from '../../../src/image/tensor.js';
import { coordinatePattern, patternPng } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const image = (data: Uint8Array, height: number, width: number): DecodedImage => ({
  data,
  height,
  width,
  source: { format: 'png', width, height },
});

describe('imagesToTensor', () => {
  it('stacks images into a float32 [N, H, W, 3] batch of 0–255 values', async () => {
    const a = await loadImage(await patternPng(4, 3));
    const b = image(new Uint8Array(4 * 3 * 3).fill(255), 3, 4);
    const before = tf.memory().numTensors;

    const batch = imagesToTensor([a, b]);

    expect(tf.memory().numTensors).toBe(before + 1); // only the result, owned by the caller
    expect(batch.shape).toEqual([2, 3, 4, 3]);
    expect(batch.dtype).toBe('float32');
    const values = batch.dataSync();
    expect(Array.from(values.subarray(0, 36))).toEqual(Array.from(coordinatePattern(4, 3)));
    expect(Array.from(values.subarray(36))).toEqual(new Array(36).fill(255));
    batch.dispose();
  });

  it('refuses an empty list and images of different sizes', () => {
    const small = image(new Uint8Array(2 * 2 * 3), 2, 2);
    const wide = image(new Uint8Array(2 * 3 * 3), 2, 3);
    const before = tf.memory().numTensors;

    expect(() => imagesToTensor([])).toThrow(InvalidArgumentError);
    expect(() => imagesToTensor([small, wide])).toThrow(
      'imagesToTensor needs images of one size: image 0 is 2×2, image 1 is 2×3 with 18 bytes; load them with the same targetSize.',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
