/**
 * MobileNetV2 with alpha 1.0, as keras/src/applications/mobilenet_v2.py builds it. Every layer is
 * named in the Keras source except the global pooling, which takes tf.keras' first auto name
 * (`global_average_pooling2d`, also with the top).
 */
import { tf } from '../../engine/backend.js';
import { call, conv2d, depthwiseConv2d, CHANNEL_AXIS, classifierOrPooling, functionalModel, imageInput, type PoolingNames, type Sym } from '../layers.js';
import type { ModelSpec } from '../types.js';
import { validateZooOptions, type ResolvedZooOptions } from '../validate.js';

export const MOBILENET_POOLING_NAMES: PoolingNames = { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' };

/** The square sizes Keras publishes MobileNetV2 weights for. */
const WEIGHT_INPUT_SIZES = [96, 128, 160, 192, 224] as const;
const ALPHA = 1.0;

/** Inverted residual blocks: output filters, stride and expansion, in order (block ids 0…16). */
const BLOCKS: ReadonlyArray<readonly [filters: number, stride: 1 | 2, expansion: number]> = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

/** Keras `_make_divisible`: round to a multiple of `divisor`, never more than 10% down. */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let next = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (next < 0.9 * v) next += divisor;
  return next;
}

/**
 * Keras `imagenet_utils.correct_pad`: the zero padding that makes a stride-2 'valid' 3x3 convolution
 * match TF 'same' output sizes. Unknown sizes pad as even ones, as in Keras.
 */
export function correctPad(inputSize: readonly [number | null, number | null], kernelSize: number): [[number, number], [number, number]] {
  const adjust = (size: number | null) => (size === null ? 1 : 1 - (size % 2));
  const correct = Math.floor(kernelSize / 2);
  const [rows, cols] = inputSize;
  const adjustRows = adjust(rows);
  const adjustCols = rows === null ? 1 : adjust(cols);
  return [
    [correct - adjustRows, correct],
    [correct - adjustCols, correct],
  ];
}

function batchNorm(x: Sym, name: string): Sym {
  return call(tf.layers.batchNormalization({ axis: CHANNEL_AXIS, epsilon: 1e-3, momentum: 0.999, name }), x);
}

function relu6(x: Sym, name: string): Sym {
  return call(tf.layers.reLU({ maxValue: 6, name }), x);
}

function pointwise(x: Sym, filters: number, name: string): Sym {
  return call(conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name }), x);
}

/** Keras `_inverted_res_block`: expand (1x1), depthwise 3x3, project (1x1), residual add when shapes allow. */
function invertedResBlock(inputs: Sym, filters: number, stride: 1 | 2, expansion: number, blockId: number): Sym {
  const inChannels = inputs.shape[CHANNEL_AXIS] as number;
  const pointwiseFilters = makeDivisible(Math.trunc(filters * ALPHA), 8);
  let x = inputs;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = pointwise(x, expansion * inChannels, `${prefix}expand`);
    x = batchNorm(x, `${prefix}expand_BN`);
    x = relu6(x, `${prefix}expand_relu`);
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) {
    const padding = correctPad([x.shape[1] ?? null, x.shape[2] ?? null], 3);
    x = call(tf.layers.zeroPadding2d({ padding, name: `${prefix}pad` }), x);
  }
  const depthwise = depthwiseConv2d({
    kernelSize: 3,
    strides: stride,
    useBias: false,
    padding: stride === 1 ? 'same' : 'valid',
    name: `${prefix}depthwise`,
  });
  x = call(depthwise, x);
  x = batchNorm(x, `${prefix}depthwise_BN`);
  x = relu6(x, `${prefix}depthwise_relu`);
  x = pointwise(x, pointwiseFilters, `${prefix}project`);
  x = batchNorm(x, `${prefix}project_BN`);
  if (inChannels === pointwiseFilters && stride === 1) return call(tf.layers.add({ name: `${prefix}add` }), [inputs, x]);
  return x;
}

/**
 * Keras' model name `mobilenetv2_{alpha:.2f}_{rows}`: with 'imagenet' weights, rows fall back to 224
 * when the input is not a square of a published size; with other weights they are the input's
 * (`None` for a size-free input, as Python formats it).
 */
function modelName(options: ResolvedZooOptions): string {
  const [rows, cols] = options.inputShape;
  const published = rows !== null && rows === cols && (WEIGHT_INPUT_SIZES as readonly number[]).includes(rows);
  const nameRows = options.weights === 'imagenet' && !published ? 224 : (rows ?? 'None');
  return `mobilenetv2_${ALPHA.toFixed(2)}_${nameRows}`;
}

function buildMobileNetV2(options: ResolvedZooOptions): tf.LayersModel {
  const input = imageInput(options);
  const firstFilters = makeDivisible(32 * ALPHA, 8);
  let x = call(conv2d({ filters: firstFilters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' }), input);
  x = batchNorm(x, 'bn_Conv1');
  x = relu6(x, 'Conv1_relu');
  BLOCKS.forEach(([filters, stride, expansion], blockId) => {
    x = invertedResBlock(x, filters, stride, expansion, blockId);
  });
  // No alpha on the last conv (the paper): 1280 filters unless alpha > 1.
  x = call(conv2d({ filters: 1280, kernelSize: 1, useBias: false, name: 'Conv_1' }), x);
  x = batchNorm(x, 'Conv_1_bn');
  x = relu6(x, 'out_relu');
  return functionalModel(input, classifierOrPooling(x, options, MOBILENET_POOLING_NAMES), modelName(options));
}

export const mobileNetV2Spec: ModelSpec = {
  id: 'mobilenet_v2',
  kerasName: 'mobilenetv2_1.00_224',
  displayName: 'MobileNetV2',
  inputSize: 224,
  minInputSize: 32,
  weightInputSizes: WEIGHT_INPUT_SIZES,
  preprocess: 'tf',
  paramsWithTop: 3_538_984,
  defaultFeatureLayer: 'global_average_pooling2d',
  defaultFeatureDim: 1280,
  featureLayers: {
    global_average_pooling2d: 1280,
    out_relu: 1280,
    block_16_project_BN: 320,
    block_13_expand_relu: 576,
    block_6_expand_relu: 192,
  },
  build: (options) => buildMobileNetV2(validateZooOptions(mobileNetV2Spec, options)),
};
