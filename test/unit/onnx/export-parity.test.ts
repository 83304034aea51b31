import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { call, compareEngines, randomizeWeights } from './helpers.js';

type Builder = () => tf.LayersModel;
const L = () => tf.layers;

/** input → layers in sequence → model (functional). */
function chain(inputShape: Array<number | null>, ...layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  const output = layers.reduce<tf.SymbolicTensor>((x, layer) => call(layer, x), input);
  return tf.model({ inputs: input, outputs: output });
}

const convCases: Array<[string, Builder, number[]]> = [
  ["Conv2D 'same' stride 2, odd size", () => chain([9, 9, 3], L().conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })), [2, 9, 9, 3]],
  ["Conv2D 'same' stride 2, even size", () => chain([8, 8, 3], L().conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' })), [2, 8, 8, 3]],
  ["Conv2D 'same' even kernel (asymmetric pad at stride 1)", () => chain([7, 6, 2], L().conv2d({ filters: 3, kernelSize: [4, 2], padding: 'same' })), [1, 7, 6, 2]],
  ["Conv2D 'same' 7×7 stride 2 (ResNet stem size)", () => chain([15, 15, 3], L().conv2d({ filters: 5, kernelSize: 7, strides: 2, padding: 'same' })), [1, 15, 15, 3]],
  ["Conv2D 'valid' stride 2, no bias", () => chain([9, 10, 3], L().conv2d({ filters: 4, kernelSize: 3, strides: 2, useBias: false })), [2, 9, 10, 3]],
  ["Conv2D 'same' dilation 2", () => chain([9, 9, 3], L().conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' })), [1, 9, 9, 3]],
  ['Conv2D + BatchNormalization + ReLU6', () => chain([8, 8, 3], L().conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false }), L().batchNormalization({ epsilon: 1e-3 }), L().reLU({ maxValue: 6 })), [2, 8, 8, 3]],
  ["Conv2D activation 'relu6'", () => chain([6, 6, 3], L().conv2d({ filters: 4, kernelSize: 1, activation: 'relu6' })), [1, 6, 6, 3]],
  ['DepthwiseConv2D multiplier 1, same, stride 2', () => chain([9, 9, 4], L().depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' })), [2, 9, 9, 4]],
  ['DepthwiseConv2D multiplier 2, valid, no bias', () => chain([8, 8, 3], L().depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, useBias: false })), [1, 8, 8, 3]],
  ['SeparableConv2D', () => chain([8, 8, 3], L().separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' })), [1, 8, 8, 3]],
];

const poolCases: Array<[string, Builder, number[]]> = [
  ["MaxPooling2D 'same' 3×3 stride 2, odd size", () => chain([9, 9, 3], L().maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })), [2, 9, 9, 3]],
  ["MaxPooling2D 'valid' 2×2", () => chain([8, 7, 3], L().maxPooling2d({ poolSize: 2 })), [1, 8, 7, 3]],
  ["AveragePooling2D 'same' 3×3 stride 1 (padding excluded from the mean)", () => chain([7, 7, 3], L().averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' })), [2, 7, 7, 3]],
  ["AveragePooling2D 'same' 2×2 stride 2, odd size", () => chain([9, 9, 3], L().averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' })), [1, 9, 9, 3]],
  ["AveragePooling2D 'valid' 2×2", () => chain([8, 8, 3], L().averagePooling2d({ poolSize: 2 })), [1, 8, 8, 3]],
  ['ZeroPadding2D (asymmetric, as wide as the window) + MaxPooling2D over negative values', () => chain([8, 8, 3], L().conv2d({ filters: 3, kernelSize: 1 }), L().zeroPadding2d({ padding: [[1, 2], [0, 3]] }), L().maxPooling2d({ poolSize: 3, strides: 2 })), [1, 8, 8, 3]],
  ['GlobalAveragePooling2D', () => chain([6, 6, 3], L().conv2d({ filters: 8, kernelSize: 3 }), L().globalAveragePooling2d({})), [2, 6, 6, 3]],
  ['GlobalMaxPooling2D', () => chain([6, 6, 3], L().conv2d({ filters: 8, kernelSize: 3 }), L().globalMaxPooling2d({})), [2, 6, 6, 3]],
];

const layoutCases: Array<[string, Builder, number[]]> = [
  ['Flatten after conv (NHWC order) + Dense softmax', () => chain([6, 5, 3], L().conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), L().flatten(), L().dense({ units: 7, activation: 'softmax' })), [3, 6, 5, 3]],
  ['Reshape after conv + Dense on rank 3 + Flatten', () => chain([4, 4, 3], L().conv2d({ filters: 5, kernelSize: 1 }), L().reshape({ targetShape: [16, 5] }), L().dense({ units: 3, activation: 'tanh' }), L().flatten()), [2, 4, 4, 3]],
  ['Reshape to 4-D then conv', () => chain([48], L().reshape({ targetShape: [4, 4, 3] }), L().conv2d({ filters: 2, kernelSize: 3, padding: 'same' })), [2, 48]],
  ['Permute after conv', () => chain([4, 5, 3], L().conv2d({ filters: 2, kernelSize: 1 }), L().permute({ dims: [3, 1, 2] })), [1, 4, 5, 3]],
  ['4-D output straight from a conv stack (transposed back to NHWC)', () => chain([8, 8, 3], L().conv2d({ filters: 4, kernelSize: 3 }), L().conv2d({ filters: 2, kernelSize: 3, strides: 2 })), [2, 8, 8, 3]],
  ['BatchNormalization straight on the NHWC input', () => chain([5, 5, 3], L().batchNormalization({})), [2, 5, 5, 3]],
  ['BatchNormalization on [N, D] without center/scale', () => chain([6], L().dense({ units: 4 }), L().batchNormalization({ center: false, scale: false })), [3, 6]],
  ['Rescaling + Dropout (identity)', () => chain([5, 5, 3], L().rescaling({ scale: 1 / 127.5, offset: -1 }), L().dropout({ rate: 0.5 }), L().conv2d({ filters: 2, kernelSize: 3 })), [1, 5, 5, 3]],
];

/** Two-branch graphs: residual adds, DenseNet-style concatenation, merges mixing NHWC and NCHW values. */
function residual(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const a = call(L().conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }), input);
  const b = call(L().conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), a);
  const sum = call(L().add(), [input, b]); // NHWC input + NCHW conv output
  const out = call(L().activation({ activation: 'relu' }), sum);
  return tf.model({ inputs: input, outputs: call(L().globalAveragePooling2d({}), out) });
}

function denseBlock(axis: number): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 4] });
  let x = call(L().conv2d({ filters: 4, kernelSize: 1 }), input);
  for (let i = 0; i < 2; i++) {
    const y = call(L().conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), call(L().reLU({}), call(L().batchNormalization({}), x)));
    x = call(L().concatenate({ axis: axis === -1 ? -1 : axis }), axis === -1 ? [x, y] : [x, call(L().conv2d({ filters: 4, kernelSize: 1 }), y)]);
  }
  return tf.model({ inputs: input, outputs: x });
}

function merges(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 3] });
  const a = call(L().conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), input);
  const b = call(L().conv2d({ filters: 3, kernelSize: 1 }), input);
  const c = call(L().conv2d({ filters: 3, kernelSize: 1, activation: 'sigmoid' }), input);
  const outs = [
    call(L().multiply(), [a, b, c]),
    call(L().average(), [a, b]),
    call(L().maximum(), [a, b, c]),
    call(L().minimum(), [a, input]),
    call(L().add(), [a, b, c]),
  ];
  return tf.model({ inputs: input, outputs: call(L().concatenate({}), outs) });
}

function inceptionStyle(): tf.LayersModel {
  const input = tf.input({ shape: [9, 9, 3] });
  const branches = [
    call(L().conv2d({ filters: 2, kernelSize: 1 }), input),
    call(L().conv2d({ filters: 3, kernelSize: [1, 3], padding: 'same' }), call(L().conv2d({ filters: 2, kernelSize: [3, 1], padding: 'same' }), input)),
    call(L().conv2d({ filters: 2, kernelSize: 1 }), call(L().averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), input)),
    call(L().maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }), input),
  ];
  return tf.model({ inputs: input, outputs: call(L().concatenate({ axis: 3 }), branches) });
}

const graphCases: Array<[string, Builder, number[]]> = [
  ['residual Add of the NHWC input and an NCHW conv output', residual, [2, 8, 8, 3]],
  ['Concatenate on the channel axis (DenseNet block)', () => denseBlock(-1), [2, 6, 6, 4]],
  ['Concatenate on the height axis', () => denseBlock(1), [1, 6, 6, 4]],
  ['Multiply / Average / Maximum / Minimum / Add of three', merges, [2, 5, 5, 3]],
  ['Inception-style branches with pooling and asymmetric kernels', inceptionStyle, [1, 9, 9, 3]],
];

/** 'logSoftmax' is a TF.js activation its ActivationIdentifier type leaves out. */
type Activation = Parameters<typeof tf.layers.activation>[0]['activation'];
const activations = ['relu', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'logSoftmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'linear'] as const;

const activationCases: Array<[string, Builder, number[]]> = [
  ...activations.map((a): [string, Builder, number[]] => [`activation '${a}' on an NCHW conv output`, () => chain([4, 4, 3], L().conv2d({ filters: 3, kernelSize: 1 }), L().activation({ activation: a as Activation })), [2, 4, 4, 3]]),
  ...(['softmax', 'hardSigmoid', 'selu'] as const).map((a): [string, Builder, number[]] => [`Dense activation '${a}'`, () => chain([5], L().dense({ units: 4, activation: a })), [3, 5]]),
  ['LeakyReLU, ELU, ThresholdedReLU and Softmax layers', () => chain([4, 4, 3], L().conv2d({ filters: 3, kernelSize: 1 }), L().leakyReLU({ alpha: 0.2 }), L().elu({}), L().thresholdedReLU({ theta: 0.1 }), L().softmax({ axis: -1 })), [2, 4, 4, 3]],
];

/** A trained-head shape: Dense/Dropout on [N, D] features. */
function head(): tf.LayersModel {
  return tf.sequential({
    layers: [
      L().dropout({ inputShape: [32], rate: 0.2 }),
      L().dense({ units: 16, activation: 'relu' }),
      L().dense({ units: 5, activation: 'softmax' }),
    ],
  });
}

/** A frozen base as a nested Sequential inside a functional model with a new head. */
function nested(): tf.LayersModel {
  const base = tf.sequential({
    layers: [L().conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), L().batchNormalization({})],
  });
  const input = tf.input({ shape: [8, 8, 3] });
  const features = call(L().globalAveragePooling2d({}), call(base, input));
  return tf.model({ inputs: input, outputs: call(L().dense({ units: 3, activation: 'softmax' }), features) });
}

/** One layer applied twice (a shared layer has one node per call). */
function shared(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const conv = L().conv2d({ filters: 3, kernelSize: 3, padding: 'same' });
  return tf.model({ inputs: input, outputs: call(conv, call(conv, input)) });
}

const modelCases: Array<[string, Builder, number[]]> = [
  ['trained head (Sequential Dropout/Dense on [N, D])', head, [4, 32]],
  ['Sequential conv stack', () => tf.sequential({ layers: [L().conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3 }), L().flatten(), L().dense({ units: 2 })] }), [2, 6, 6, 3]],
  ['nested Sequential base + new head', nested, [2, 8, 8, 3]],
  ['shared layer called twice', shared, [1, 6, 6, 3]],
];

describe('exportToOnnx parity: ONNX Runtime matches TF.js to 1e-4 × max(1, max |y|)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const models: tf.LayersModel[] = [];
  afterAll(() => models.forEach((m) => m.dispose()));

  describe.each([
    ['convolutions', convCases],
    ['pooling and padding', poolCases],
    ['layout-sensitive layers', layoutCases],
    ['multi-branch graphs', graphCases],
    ['activations', activationCases],
    ['whole models', modelCases],
  ])('%s', (_group, cases) => {
    it.each(cases)('%s', async (_name, build, inputShape) => {
      // Prepare
      const model = build();
      models.push(model);
      randomizeWeights(model);
      // Act
      const parity = await compareEngines(model, inputShape);
      // Assess
      expect(parity.onnxShape).toEqual(parity.tfjsShape);
      expect(parity.maxAbs).toBeGreaterThan(0);
      expect(parity.maxDiff).toBeLessThanOrEqual(parity.bound);
    });
  });

  it('runs with a batch size other than the one it was checked with (dynamic N)', async () => {
    const model = chain([6, 6, 3], L().conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), L().globalAveragePooling2d({}));
    models.push(model);
    for (const n of [1, 5]) {
      const parity = await compareEngines(model, [n, 6, 6, 3], n);
      expect(parity.onnxShape).toEqual([n, 2]);
      expect(parity.maxDiff).toBeLessThanOrEqual(parity.bound);
    }
  });

  it("exports 'same' padding of a model without a fixed image size (SAME_UPPER)", async () => {
    const model = chain([null, null, 3], L().conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), L().averagePooling2d({ poolSize: 2, padding: 'same' }));
    models.push(model);
    for (const size of [9, 8]) {
      const parity = await compareEngines(model, [1, size, size, 3], size);
      expect(parity.onnxShape).toEqual(parity.tfjsShape);
      expect(parity.maxDiff).toBeLessThanOrEqual(parity.bound);
    }
  });

  it.each([13, 21])('exports with opset %i', async (opset) => {
    const model = chain([8, 8, 3], L().conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), L().reLU({ maxValue: 6 }), L().globalAveragePooling2d({}), L().dense({ units: 3, activation: 'softmax' }));
    models.push(model);
    const parity = await compareEngines(model, [2, 8, 8, 3], 3, opset);
    expect(parity.maxDiff).toBeLessThanOrEqual(parity.bound);
  });
});
