import { describe, expect, it } from 'vitest';
import { createAutoNamer, INPUT_LAYER_NAME } from '../../../src/zoo/naming.js';

describe('createAutoNamer', () => {
  it("counts from 1 per class, as standalone Keras 2.0 (the InceptionV3 weight file's names)", () => {
    const name = createAutoNamer('keras2.0');
    expect([name('conv2d'), name('conv2d'), name('activation'), name('conv2d')]).toEqual(['conv2d_1', 'conv2d_2', 'activation_1', 'conv2d_3']);
  });

  it('starts bare then counts from 1, as tf.keras', () => {
    const name = createAutoNamer('tf.keras');
    expect([name('global_average_pooling2d'), name('global_average_pooling2d'), name('dense')]).toEqual([
      'global_average_pooling2d',
      'global_average_pooling2d_1',
      'dense',
    ]);
  });

  it('is fresh per namer, so every build names its layers the same way', () => {
    createAutoNamer('keras2.0')('conv2d');
    expect(createAutoNamer('keras2.0')('conv2d')).toBe('conv2d_1');
    expect(INPUT_LAYER_NAME).toBe('input_1');
  });
});
