import { describe, expect, it } from 'vitest';
import { summary } from '../../../src/zoo/index.js';
import { runModelSuite } from './model-suite.js';

runModelSuite(
  {
    id: 'resnet50',
    name: 'resnet50',
    layers: { withTop: 177, noTop: 175 },
    params: {
      withTop: { total: 25_636_712, trainable: 25_583_592, nonTrainable: 53_120 },
      noTop: { total: 23_587_712, trainable: 23_534_592, nonTrainable: 53_120 },
    },
    // Keras orders by depth: the shortcut conv (created first) comes after the main path's first convs.
    head: [
      'input_1', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool',
      'conv2_block1_1_conv', 'conv2_block1_1_bn', 'conv2_block1_1_relu', 'conv2_block1_2_conv', 'conv2_block1_2_bn',
      'conv2_block1_2_relu', 'conv2_block1_0_conv', 'conv2_block1_3_conv', 'conv2_block1_0_bn', 'conv2_block1_3_bn',
      'conv2_block1_add', 'conv2_block1_out', 'conv2_block2_1_conv',
    ],
    tail: ['conv5_block3_2_relu', 'conv5_block3_3_conv', 'conv5_block3_3_bn', 'conv5_block3_add', 'conv5_block3_out', 'avg_pool', 'predictions'],
    shapes: {
      conv1_pad: [null, 230, 230, 3],
      pool1_pool: [null, 56, 56, 64],
      conv2_block3_out: [null, 56, 56, 256],
      conv3_block1_0_conv: [null, 28, 28, 512],
      conv4_block6_out: [null, 14, 14, 1024],
      conv5_block3_out: [null, 7, 7, 2048],
      avg_pool: [null, 2048],
    },
    pooling: { avg: 'avg_pool', max: 'max_pool' },
    channels: 2048,
    forward: { size: 32, output: [2, 1, 1, 2048] },
  },
  (model) => {
    describe('summary', () => {
      it('uses the 4-column Keras layout with "Connected to" for a branching graph', () => {
        const lines = summary(model()).split('\n');
        expect(lines.slice(0, 4)).toEqual([
          'Model: "resnet50"',
          '_'.repeat(98),
          ' Layer (type)                   Output Shape         Param #     Connected to                     ',
          '='.repeat(98),
        ]);
        expect(lines.slice(-5)).toEqual([
          '='.repeat(98),
          'Total params: 25,636,712',
          'Trainable params: 25,583,592',
          'Non-trainable params: 53,120',
          '_'.repeat(98),
        ]);
      });

      it('wraps long cells and lists every inbound layer of a merge, as Keras does', () => {
        const text = summary(model()).split('\n').map((l) => l.trimEnd());
        // Rows as tf.keras 2.9–2.11 prints them for ResNet50 (trailing spaces trimmed).
        const expected = [
          ' input_1 (InputLayer)           [(None, 224, 224, 3  0           []',
          '                                )]',
          '',
          ' conv1_pad (ZeroPadding2D)      (None, 230, 230, 3)  0           [\'input_1[0][0]\']',
          '',
          ' conv1_conv (Conv2D)            (None, 112, 112, 64  9472        [\'conv1_pad[0][0]\']',
          '                                )',
          '',
          ' conv1_bn (BatchNormalization)  (None, 112, 112, 64  256         [\'conv1_conv[0][0]\']',
          '                                )',
        ];
        expect(text.slice(4, 4 + expected.length)).toEqual(expected);
        const add = text.findIndex((l) => l.startsWith(' conv2_block1_add (Add)'));
        expect(text.slice(add, add + 2)).toEqual([
          " conv2_block1_add (Add)         (None, 56, 56, 256)  0           ['conv2_block1_0_bn[0][0]',",
          "                                                                  'conv2_block1_3_bn[0][0]']",
        ]);
        expect(text).toContain(' conv2_block1_1_bn (BatchNormal  (None, 56, 56, 64)  256         [\'conv2_block1_1_conv[0][0]\']');
        expect(text).toContain(' ization)');
      });
    });
  },
);
