import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { buildModel, getModelSpec } from '../../../src/zoo/index.js';
import { correctPad, makeDivisible } from '../../../src/zoo/models/mobilenet-v2.js';
import { runModelSuite } from './model-suite.js';

runModelSuite(
  {
    id: 'mobilenet_v2',
    name: 'mobilenetv2_1.00_224',
    // Keras formats the unknown size of a no-top model's input as Python's None.
    noTopName: 'mobilenetv2_1.00_None',
    layers: { withTop: 156, noTop: 154 },
    params: {
      withTop: { total: 3_538_984, trainable: 3_504_872, nonTrainable: 34_112 },
      noTop: { total: 2_257_984, trainable: 2_223_872, nonTrainable: 34_112 },
    },
    head: [
      'input_1', 'Conv1', 'bn_Conv1', 'Conv1_relu', 'expanded_conv_depthwise', 'expanded_conv_depthwise_BN',
      'expanded_conv_depthwise_relu', 'expanded_conv_project', 'expanded_conv_project_BN', 'block_1_expand',
      'block_1_expand_BN', 'block_1_expand_relu', 'block_1_pad', 'block_1_depthwise', 'block_1_depthwise_BN',
    ],
    tail: ['block_16_project', 'block_16_project_BN', 'Conv_1', 'Conv_1_bn', 'out_relu', 'global_average_pooling2d', 'predictions'],
    shapes: {
      Conv1: [null, 112, 112, 32],
      block_1_pad: [null, 113, 113, 96],
      block_1_depthwise: [null, 56, 56, 96],
      block_2_add: [null, 56, 56, 24],
      block_13_pad: [null, 15, 15, 576],
      block_16_project_BN: [null, 7, 7, 320],
      out_relu: [null, 7, 7, 1280],
      global_average_pooling2d: [null, 1280],
    },
    pooling: { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' },
    channels: 1280,
    forward: { size: 64, output: [2, 2, 2, 1280] },
  },
  (model) => {
    it('uses Keras batch norm settings (epsilon 1e-3, momentum 0.999) and ReLU6', () => {
      const bn = model().getLayer('block_5_expand_BN').getConfig();
      expect(bn.epsilon).toBe(1e-3);
      expect(bn.momentum).toBe(0.999);
      expect(model().getLayer('out_relu').getConfig().maxValue).toBe(6);
      expect(model().getLayer('block_1_pad').getConfig().padding).toEqual([[0, 1], [0, 1]]);
    });
  },
);

describe('MobileNetV2 naming and padding', () => {
  it("names the model for its input size, as Keras' mobilenetv2_{alpha}_{rows}", async () => {
    await initBackend();
    const small = buildModel('mobilenet_v2', { includeTop: false, inputShape: [160, 160, 3] });
    // 'imagenet' falls back to the 224 weights (and name) for sizes without published weights.
    const odd = getModelSpec('mobilenet_v2').build({ weights: 'imagenet', includeTop: false, inputShape: [97, 97, 3] });
    try {
      expect(small.name).toBe('mobilenetv2_1.00_160');
      expect(odd.name).toBe('mobilenetv2_1.00_224');
      // correct_pad on odd sizes pads both sides.
      expect(odd.getLayer('block_1_pad').getConfig().padding).toEqual([[1, 1], [1, 1]]);
      expect(odd.getLayer('block_1_depthwise').outputShape).toEqual([null, 25, 25, 96]);
    } finally {
      small.dispose();
      odd.dispose();
    }
  });

  it('computes correct_pad and _make_divisible as Keras', () => {
    expect(correctPad([224, 224], 3)).toEqual([[0, 1], [0, 1]]);
    expect(correctPad([113, 57], 3)).toEqual([[1, 1], [1, 1]]);
    expect(correctPad([null, null], 3)).toEqual([[0, 1], [0, 1]]);
    expect(makeDivisible(32, 8)).toBe(32);
    expect(makeDivisible(5, 8)).toBe(8);
    expect(makeDivisible(1280 * 1.4, 8)).toBe(1792);
    expect(makeDivisible(44, 8)).toBe(48);
    expect(makeDivisible(27, 8)).toBe(32);
  });
});
