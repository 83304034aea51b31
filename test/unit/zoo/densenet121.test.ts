import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWhen, sharedExport } from '../../helpers/real-weights.js';
import { runModelSuite } from './model-suite.js';

/** A Keras 2.1.4 export of DenseNet121 with its ImageNet weights, in TF.js format (read-only test data). */
const shared = sharedExport();

interface Export {
  modelTopology: { model_config: { config: { layers: Array<{ config: { name: string } }> } } };
  weightsManifest: Array<{ weights: Array<{ name: string; shape: number[] }> }>;
}

runModelSuite(
  {
    id: 'densenet121',
    name: 'densenet121',
    layers: { withTop: 429, noTop: 427 },
    params: {
      withTop: { total: 8_062_504, trainable: 7_978_856, nonTrainable: 83_648 },
      noTop: { total: 7_037_504, trainable: 6_953_856, nonTrainable: 83_648 },
    },
    head: [
      'input_1', 'zero_padding2d_1', 'conv1/conv', 'conv1/bn', 'conv1/relu', 'zero_padding2d_2', 'pool1',
      'conv2_block1_0_bn', 'conv2_block1_0_relu', 'conv2_block1_1_conv', 'conv2_block1_1_bn', 'conv2_block1_1_relu',
      'conv2_block1_2_conv', 'conv2_block1_concat',
    ],
    tail: ['conv5_block16_1_relu', 'conv5_block16_2_conv', 'conv5_block16_concat', 'bn', 'relu', 'avg_pool', 'predictions'],
    shapes: {
      'conv1/conv': [null, 112, 112, 64],
      pool1: [null, 56, 56, 64],
      conv2_block6_concat: [null, 56, 56, 256],
      pool2_conv: [null, 56, 56, 128],
      pool2_pool: [null, 28, 28, 128],
      pool3_pool: [null, 14, 14, 256],
      pool4_pool: [null, 7, 7, 512],
      relu: [null, 7, 7, 1024],
      avg_pool: [null, 1024],
    },
    pooling: { avg: 'avg_pool', max: 'max_pool' },
    channels: 1024,
    forward: { size: 32, output: [2, 1, 1, 1024] },
  },
  (model) => {
    // The export predates Keras' final `relu` and calls the top `fc1000`; otherwise it must match.
    const asExported = (name: string) => name.replace(/^predictions/, 'fc1000');
    const exported = () => JSON.parse(readFileSync(join(shared.path, 'model.json'), 'utf8')) as Export;

    describeWhen(shared, 'against the Keras 2.1.4 export in ../shared', () => {
      it('has the layer names and order of the Keras export', () => {
        const ours = model()
          .layers.map((l) => l.name)
          .filter((name) => name !== 'relu')
          .map(asExported);
        expect(ours).toEqual(exported().modelTopology.model_config.config.layers.map((l) => l.config.name));
      });

      it('has every weight of the Keras export, by name and shape (what loading by name needs)', () => {
        const shapes = new Map(exported().weightsManifest.flatMap((g) => g.weights).map((w) => [w.name, w.shape]));
        const ours = model().weights.map((w) => [asExported(w.originalName), w.shape] as const);
        expect(ours).toHaveLength(shapes.size);
        for (const [name, shape] of ours) expect(shapes.get(name), name).toEqual(shape);
        expect(model().getLayer('conv1/bn').getConfig().epsilon).toBe(1.001e-5);
      });
    });
  },
);
