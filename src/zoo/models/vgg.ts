/**
 * VGG16 and VGG19, as keras/src/applications/vgg16.py and vgg19.py build them.
 * Every layer is named in the Keras source except the optional no-top pooling, which takes tf.keras'
 * first auto name (`global_average_pooling2d`).
 */
import { tf } from '../../engine/backend.js';
import { call, conv2d, dense, functionalModel, globalPooling, imageInput, predictions, type PoolingNames, type Sym } from '../layers.js';
import type { ModelSpec } from '../types.js';
import { validateZooOptions, type ResolvedZooOptions } from '../validate.js';

export const VGG_POOLING_NAMES: PoolingNames = { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' };

/** Filters per block and how many 3x3 convolutions each block has. */
interface VggConfig {
  name: string;
  blocks: ReadonlyArray<{ filters: number; convs: number }>;
}

const VGG16: VggConfig = {
  name: 'vgg16',
  blocks: [
    { filters: 64, convs: 2 },
    { filters: 128, convs: 2 },
    { filters: 256, convs: 3 },
    { filters: 512, convs: 3 },
    { filters: 512, convs: 3 },
  ],
};

const VGG19: VggConfig = {
  name: 'vgg19',
  blocks: [
    { filters: 64, convs: 2 },
    { filters: 128, convs: 2 },
    { filters: 256, convs: 4 },
    { filters: 512, convs: 4 },
    { filters: 512, convs: 4 },
  ],
};

function convBlock(x: Sym, block: number, filters: number, convs: number): Sym {
  for (let i = 1; i <= convs; i++) {
    const conv = conv2d({ filters, kernelSize: 3, activation: 'relu', padding: 'same', name: `block${block}_conv${i}` });
    x = call(conv, x);
  }
  return call(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${block}_pool` }), x);
}

function classifier(x: Sym, options: ResolvedZooOptions): Sym {
  x = call(tf.layers.flatten({ name: 'flatten' }), x);
  x = call(dense({ units: 4096, activation: 'relu', name: 'fc1' }), x);
  x = call(dense({ units: 4096, activation: 'relu', name: 'fc2' }), x);
  return predictions(x, options);
}

function buildVgg(config: VggConfig, options: ResolvedZooOptions): tf.LayersModel {
  const input = imageInput(options);
  let x = input;
  config.blocks.forEach(({ filters, convs }, i) => {
    x = convBlock(x, i + 1, filters, convs);
  });
  if (options.includeTop) x = classifier(x, options);
  else if (options.pooling) x = globalPooling(x, options.pooling, VGG_POOLING_NAMES[options.pooling]);
  return functionalModel(input, x, config.name);
}

const VGG_FEATURE_LAYERS = { fc2: 4096, fc1: 4096, block5_pool: 512, block4_pool: 512, block3_pool: 256 };

export const vgg16Spec: ModelSpec = {
  id: 'vgg16',
  kerasName: 'vgg16',
  displayName: 'VGG16',
  inputSize: 224,
  minInputSize: 32,
  preprocess: 'caffe',
  paramsWithTop: 138_357_544,
  defaultFeatureLayer: 'fc2',
  defaultFeatureDim: 4096,
  featureLayers: VGG_FEATURE_LAYERS,
  build: (options) => buildVgg(VGG16, validateZooOptions(vgg16Spec, options)),
};

export const vgg19Spec: ModelSpec = {
  id: 'vgg19',
  kerasName: 'vgg19',
  displayName: 'VGG19',
  inputSize: 224,
  minInputSize: 32,
  preprocess: 'caffe',
  paramsWithTop: 143_667_240,
  defaultFeatureLayer: 'fc2',
  defaultFeatureDim: 4096,
  featureLayers: VGG_FEATURE_LAYERS,
  build: (options) => buildVgg(VGG19, validateZooOptions(vgg19Spec, options)),
};
