/**
 * DenseNet121, as keras/src/applications/densenet.py builds it, with the layer names of the official
 * `densenet121_weights_tf_dim_ordering_tf_kernels(_notop).h5` files (written by Keras 2.1): the stem is
 * `conv1/conv`, `conv1/bn`, `conv1/relu` (Keras 3 renamed them `conv1_conv`, …) and the two unnamed
 * paddings are `zero_padding2d_1`, `zero_padding2d_2` (Keras 2.0/2.1 auto names). Everything else is as
 * current Keras names it, including the final `relu` and the `predictions` top (the Keras 2.1 export in
 * ../shared/models/densenet121 lacks that `relu` and calls its top `fc1000`).
 */
import { tf } from '../../engine/backend.js';
import { call, conv2d, CHANNEL_AXIS, classifierOrPooling, functionalModel, imageInput, type PoolingNames, type Sym } from '../layers.js';
import { createAutoNamer } from '../naming.js';
import type { ModelSpec } from '../types.js';
import { validateZooOptions, type ResolvedZooOptions } from '../validate.js';

export const DENSENET_POOLING_NAMES: PoolingNames = { avg: 'avg_pool', max: 'max_pool' };

const BLOCKS_121 = [6, 12, 24, 16] as const;
const GROWTH_RATE = 32;
const REDUCTION = 0.5;

function batchNorm(x: Sym, name: string): Sym {
  return call(tf.layers.batchNormalization({ axis: CHANNEL_AXIS, epsilon: 1.001e-5, name }), x);
}

function relu(x: Sym, name: string): Sym {
  return call(tf.layers.activation({ activation: 'relu', name }), x);
}

/** Keras `conv_block`: BN-relu-1x1 conv (4k) - BN-relu-3x3 conv (k), concatenated onto the input. */
function convBlock(x: Sym, name: string): Sym {
  let x1 = relu(batchNorm(x, `${name}_0_bn`), `${name}_0_relu`);
  x1 = call(conv2d({ filters: 4 * GROWTH_RATE, kernelSize: 1, useBias: false, name: `${name}_1_conv` }), x1);
  x1 = relu(batchNorm(x1, `${name}_1_bn`), `${name}_1_relu`);
  x1 = call(conv2d({ filters: GROWTH_RATE, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_2_conv` }), x1);
  return call(tf.layers.concatenate({ axis: CHANNEL_AXIS, name: `${name}_concat` }), [x, x1]);
}

function denseBlock(x: Sym, blocks: number, name: string): Sym {
  for (let i = 1; i <= blocks; i++) x = convBlock(x, `${name}_block${i}`);
  return x;
}

/** Keras `transition_block`: BN-relu, 1x1 conv halving the channels, 2x2 average pool. */
function transitionBlock(x: Sym, name: string): Sym {
  x = relu(batchNorm(x, `${name}_bn`), `${name}_relu`);
  const filters = Math.trunc((x.shape[CHANNEL_AXIS] as number) * REDUCTION);
  x = call(conv2d({ filters, kernelSize: 1, useBias: false, name: `${name}_conv` }), x);
  return call(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
}

function stem(input: Sym): Sym {
  const autoName = createAutoNamer('keras2.0');
  let x = call(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: autoName('zero_padding2d') }), input);
  x = call(conv2d({ filters: 64, kernelSize: 7, strides: 2, useBias: false, name: 'conv1/conv' }), x);
  x = relu(batchNorm(x, 'conv1/bn'), 'conv1/relu');
  x = call(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: autoName('zero_padding2d') }), x);
  return call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }), x);
}

function buildDenseNet121(options: ResolvedZooOptions): tf.LayersModel {
  const input = imageInput(options);
  let x = stem(input);
  BLOCKS_121.forEach((blocks, i) => {
    x = denseBlock(x, blocks, `conv${i + 2}`);
    if (i < BLOCKS_121.length - 1) x = transitionBlock(x, `pool${i + 2}`);
  });
  x = relu(batchNorm(x, 'bn'), 'relu');
  return functionalModel(input, classifierOrPooling(x, options, DENSENET_POOLING_NAMES), 'densenet121');
}

export const denseNet121Spec: ModelSpec = {
  id: 'densenet121',
  kerasName: 'densenet121',
  displayName: 'DenseNet121',
  inputSize: 224,
  minInputSize: 32,
  preprocess: 'torch',
  paramsWithTop: 8_062_504,
  defaultFeatureLayer: 'avg_pool',
  defaultFeatureDim: 1024,
  featureLayers: { avg_pool: 1024, relu: 1024, pool4_pool: 512, pool3_pool: 256, pool2_pool: 128 },
  build: (options) => buildDenseNet121(validateZooOptions(denseNet121Spec, options)),
};
