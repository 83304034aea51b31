import { expect, it } from 'vitest';
import { runModelSuite } from './model-suite.js';

runModelSuite(
  {
    id: 'inception_v3',
    name: 'inception_v3',
    layers: { withTop: 313, noTop: 311 },
    params: {
      withTop: { total: 23_851_784, trainable: 23_817_352, nonTrainable: 34_432 },
      noTop: { total: 21_802_784, trainable: 21_768_352, nonTrainable: 34_432 },
    },
    // Standalone Keras 2.0's 1-based auto names, as in the official weight file.
    head: [
      'input_1', 'conv2d_1', 'batch_normalization_1', 'activation_1', 'conv2d_2', 'batch_normalization_2', 'activation_2',
      'conv2d_3', 'batch_normalization_3', 'activation_3', 'max_pooling2d_1', 'conv2d_4',
    ],
    // Layers 278–312 as Keras 2 lists them (model.layers index → name).
    tail: [
      'activation_85', 'mixed9', 'conv2d_90', 'batch_normalization_90', 'activation_90', 'conv2d_87', 'conv2d_91',
      'batch_normalization_87', 'batch_normalization_91', 'activation_87', 'activation_91', 'conv2d_88', 'conv2d_89',
      'conv2d_92', 'conv2d_93', 'average_pooling2d_9', 'conv2d_86', 'batch_normalization_88', 'batch_normalization_89',
      'batch_normalization_92', 'batch_normalization_93', 'conv2d_94', 'batch_normalization_86', 'activation_88',
      'activation_89', 'activation_92', 'activation_93', 'batch_normalization_94', 'activation_86', 'mixed9_1',
      'concatenate_2', 'activation_94', 'mixed10', 'avg_pool', 'predictions',
    ],
    shapes: {
      max_pooling2d_2: [null, 35, 35, 192],
      mixed0: [null, 35, 35, 256],
      mixed2: [null, 35, 35, 288],
      mixed3: [null, 17, 17, 768],
      mixed7: [null, 17, 17, 768],
      mixed8: [null, 8, 8, 1280],
      mixed9_0: [null, 8, 8, 768],
      concatenate_1: [null, 8, 8, 768],
      mixed10: [null, 8, 8, 2048],
      avg_pool: [null, 2048],
    },
    pooling: { avg: 'global_average_pooling2d_1', max: 'global_max_pooling2d_1' },
    channels: 2048,
    forward: { size: 75, output: [2, 1, 1, 2048] },
  },
  (model) => {
    it('uses batch norm without scale (beta and moving statistics only), as conv2d_bn does', () => {
      const bn = model().getLayer('batch_normalization_1');
      expect(bn.weights.map((w) => w.originalName)).toEqual([
        'batch_normalization_1/beta',
        'batch_normalization_1/moving_mean',
        'batch_normalization_1/moving_variance',
      ]);
      expect(model().getLayer('conv2d_94').weights.map((w) => w.originalName)).toEqual(['conv2d_94/kernel']);
    });
  },
);
