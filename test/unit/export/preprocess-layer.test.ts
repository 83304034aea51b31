import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { applyPreprocess, preprocessAffine } from '../../../src/export/index.js';
import { preprocessInput, preprocessInto } from '../../../src/image/preprocess.js';
import type { PreprocessMode } from '../../../src/zoo/types.js';
import { expectNoLeak } from '../../helpers/tf.js';

const MODES: PreprocessMode[] = ['caffe', 'tf', 'torch'];

/** Every byte value in every channel, and a few pixels where the channels differ (caught by a wrong permutation). */
function pixels(): Uint8Array {
  const out = new Uint8Array(16 * 16 * 3);
  for (let i = 0; i < 256; i++) {
    out[i * 3] = i;
    out[i * 3 + 1] = (i * 7 + 3) % 256;
    out[i * 3 + 2] = 255 - i;
  }
  return out;
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('preprocessAffine: Keras preprocess_input as one per-channel affine map', () => {
  it('caffe is the RGB → BGR permutation minus the BGR mean, tf and torch are diagonal', () => {
    const caffe = preprocessAffine('caffe');
    // out channel c reads input channel 2 - c
    expect(Array.from(caffe.kernel)).toEqual([0, 0, 1, 0, 1, 0, 1, 0, 0]);
    expect(Array.from(caffe.bias)).toEqual([-103.939, -116.779, -123.68].map(Math.fround));
    const tfMode = preprocessAffine('tf');
    expect(Array.from(tfMode.kernel)).toEqual([1 / 127.5, 0, 0, 0, 1 / 127.5, 0, 0, 0, 1 / 127.5].map(Math.fround));
    expect(Array.from(tfMode.bias)).toEqual([-1, -1, -1]);
    const torch = preprocessAffine('torch');
    expect(torch.kernel[1]).toBe(0);
    expect(torch.kernel[0]).toBeCloseTo(1 / (255 * 0.229), 7);
    expect(torch.bias[2]).toBeCloseTo(-0.406 / 0.225, 6);
  });

  it.each(MODES)("'%s': x·kernel + bias equals preprocessInto on every byte value", (mode) => {
    const input = pixels();
    const expected = new Float32Array(input.length);
    preprocessInto(input, expected, 0, mode);
    const { kernel, bias } = preprocessAffine(mode);
    let max = 0;
    for (let p = 0; p < input.length; p += 3) {
      for (let c = 0; c < 3; c++) {
        const value = input[p]! * kernel[c]! + input[p + 1]! * kernel[3 + c]! + input[p + 2]! * kernel[6 + c]! + bias[c]!;
        max = Math.max(max, Math.abs(value - expected[p + c]!));
      }
    }
    expect(max).toBeLessThan(mode === 'caffe' ? 1e-5 : 1e-6);
  });
});

describe('applyPreprocess: the fixed 1×1 Conv2D layer', () => {
  it.each(MODES)("'%s': the layer's output equals preprocessInput, and it is not trainable", async (mode) => {
    await expectNoLeak(() => {
      const input = tf.input({ shape: [16, 16, 3] });
      const model = tf.model({ inputs: input, outputs: applyPreprocess(input, mode) });
      const [got, want] = tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(pixels()), [1, 16, 16, 3]);
        return [(model.predict(x) as tf.Tensor).dataSync(), preprocessInput(x, mode).dataSync()];
      });
      expect(model.trainableWeights).toHaveLength(0);
      expect(model.layers[1]!.getClassName()).toBe('Conv2D');
      model.dispose();
      const max = Array.from(got!).reduce((m, v, i) => Math.max(m, Math.abs(v - want![i]!)), 0);
      expect(max).toBeLessThan(mode === 'caffe' ? 1e-5 : 1e-6);
    });
  });
});
