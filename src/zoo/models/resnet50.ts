/**
 * ResNet50 (v1), as keras/src/applications/resnet.py builds it (`ResNet(stack_fn, preact=False,
 * use_bias=True, 'resnet50')`). Every layer is named in the Keras source.
 */
import { tf } from '../../engine/backend.js';
import { call, conv2d, CHANNEL_AXIS, classifierOrPooling, functionalModel, imageInput, type PoolingNames, type Sym } from '../layers.js';
import type { ModelSpec } from '../types.js';
import { validateZooOptions, type ResolvedZooOptions } from '../validate.js';

export const RESNET_POOLING_NAMES: PoolingNames = { avg: 'avg_pool', max: 'max_pool' };

const BN_EPSILON = 1.001e-5;

function batchNorm(x: Sym, name: string): Sym {
  return call(tf.layers.batchNormalization({ axis: CHANNEL_AXIS, epsilon: BN_EPSILON, name }), x);
}

function conv(x: Sym, filters: number, kernelSize: number, name: string, strides = 1, padding: 'valid' | 'same' = 'valid'): Sym {
  return call(conv2d({ filters, kernelSize, strides, padding, name }), x);
}

/** Keras `residual_block_v1`: 1x1 → 3x3 → 1x1 bottleneck, projection shortcut in the first block of a stack. */
function residualBlock(x: Sym, filters: number, name: string, stride = 1, convShortcut = true): Sym {
  let shortcut = x;
  if (convShortcut) {
    shortcut = conv(x, 4 * filters, 1, `${name}_0_conv`, stride);
    shortcut = batchNorm(shortcut, `${name}_0_bn`);
  }
  x = conv(x, filters, 1, `${name}_1_conv`, stride);
  x = batchNorm(x, `${name}_1_bn`);
  x = call(tf.layers.activation({ activation: 'relu', name: `${name}_1_relu` }), x);
  x = conv(x, filters, 3, `${name}_2_conv`, 1, 'same');
  x = batchNorm(x, `${name}_2_bn`);
  x = call(tf.layers.activation({ activation: 'relu', name: `${name}_2_relu` }), x);
  x = conv(x, 4 * filters, 1, `${name}_3_conv`);
  x = batchNorm(x, `${name}_3_bn`);
  x = call(tf.layers.add({ name: `${name}_add` }), [shortcut, x]);
  return call(tf.layers.activation({ activation: 'relu', name: `${name}_out` }), x);
}

/** Keras `stack_residual_blocks_v1`. */
function stack(x: Sym, filters: number, blocks: number, name: string, stride1 = 2): Sym {
  x = residualBlock(x, filters, `${name}_block1`, stride1);
  for (let i = 2; i <= blocks; i++) x = residualBlock(x, filters, `${name}_block${i}`, 1, false);
  return x;
}

function stem(input: Sym): Sym {
  let x = call(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }), input);
  x = conv(x, 64, 7, 'conv1_conv', 2);
  x = batchNorm(x, 'conv1_bn');
  x = call(tf.layers.activation({ activation: 'relu', name: 'conv1_relu' }), x);
  x = call(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }), x);
  return call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
}

function buildResNet50(options: ResolvedZooOptions): tf.LayersModel {
  const input = imageInput(options);
  let x = stem(input);
  x = stack(x, 64, 3, 'conv2', 1);
  x = stack(x, 128, 4, 'conv3');
  x = stack(x, 256, 6, 'conv4');
  x = stack(x, 512, 3, 'conv5');
  return functionalModel(input, classifierOrPooling(x, options, RESNET_POOLING_NAMES), 'resnet50');
}

export const resnet50Spec: ModelSpec = {
  id: 'resnet50',
  kerasName: 'resnet50',
  displayName: 'ResNet50',
  inputSize: 224,
  minInputSize: 32,
  preprocess: 'caffe',
  paramsWithTop: 25_636_712,
  defaultFeatureLayer: 'avg_pool',
  defaultFeatureDim: 2048,
  featureLayers: { avg_pool: 2048, conv5_block3_out: 2048, conv4_block6_out: 1024, conv3_block4_out: 512, conv2_block3_out: 256 },
  build: (options) => buildResNet50(validateZooOptions(resnet50Spec, options)),
};
