import { attr } from '../graph-builder.js';
import { layoutAxis, type EmitContext, type Emitted, type Value } from '../layout.js';
import { configOf, type LayerConverter } from './types.js';

/** Keras activation names (as TF.js serialises them) the exporter translates. */
export const SUPPORTED_ACTIVATIONS = [
  'linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh',
  'softmax', 'logSoftmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu',
] as const;

export function checkActivation(activation: string | null | undefined): string | undefined {
  if (activation == null || (SUPPORTED_ACTIVATIONS as readonly string[]).includes(activation)) return undefined;
  return `activation '${activation}'`;
}

/**
 * Emits `activation` applied to `input` (already in its working layout); 'linear' emits nothing.
 * Softmax runs over the Keras last axis, which is axis 1 of an NCHW value.
 */
export function emitActivation(ctx: EmitContext, input: Value, activation: string | null | undefined, base: string): Emitted {
  const b = ctx.builder;
  const x = input.name;
  const unary = (op: string) => ({ name: b.node(op, [x], base), layout: input.layout });
  const lastAxis = layoutAxis(-1, input.shape.length, input.layout);
  switch (activation ?? 'linear') {
    case 'linear':
      return { name: x, layout: input.layout };
    case 'relu':
      return unary('Relu');
    case 'relu6':
      return { name: b.node('Clip', [x, b.scalar(`${base}/min`, 0), b.scalar(`${base}/max`, 6)], base), layout: input.layout };
    case 'elu':
      return unary('Elu');
    case 'selu':
      return unary('Selu');
    case 'sigmoid':
      return unary('Sigmoid');
    case 'hardSigmoid': // TF.js: clip(0.2·x + 0.5, 0, 1), ONNX's defaults
      return { name: b.node('HardSigmoid', [x], base, { alpha: attr.float(0.2), beta: attr.float(0.5) }), layout: input.layout };
    case 'tanh':
      return unary('Tanh');
    case 'softmax':
      return { name: b.node('Softmax', [x], base, { axis: attr.int(lastAxis) }), layout: input.layout };
    case 'logSoftmax':
      return { name: b.node('LogSoftmax', [x], base, { axis: attr.int(lastAxis) }), layout: input.layout };
    case 'softplus':
      return unary('Softplus');
    case 'softsign':
      return unary('Softsign');
    case 'swish': // x·sigmoid(x)
      return { name: b.node('Mul', [x, b.node('Sigmoid', [x], `${base}/sigmoid`)], base), layout: input.layout };
    case 'mish': // x·tanh(softplus(x))
      return {
        name: b.node('Mul', [x, b.node('Tanh', [b.node('Softplus', [x], `${base}/softplus`)], `${base}/tanh`)], base),
        layout: input.layout,
      };
    case 'gelu': // TF.js: 0.5·x·(1 + erf(x/√2)); the Gelu op only exists from opset 20
      return emitGelu(ctx, input, base);
    default:
      throw new Error(`unsupported activation '${activation}' reached the emitter`);
  }
}

function emitGelu(ctx: EmitContext, input: Value, base: string): Emitted {
  const b = ctx.builder;
  const scaled = b.node('Mul', [input.name, b.scalar(`${base}/inv_sqrt2`, Math.SQRT1_2)], `${base}/scaled`);
  const onePlusErf = b.node('Add', [b.node('Erf', [scaled], `${base}/erf`), b.scalar(`${base}/one`, 1)], `${base}/one_plus_erf`);
  const half = b.node('Mul', [input.name, b.scalar(`${base}/half`, 0.5)], `${base}/half_x`);
  return { name: b.node('Mul', [half, onePlusErf], base), layout: input.layout };
}

/** Activation layers run in whatever layout their input is in: they are element-wise (softmax picks its axis). */
const activationLayer: LayerConverter = {
  check: (layer) => checkActivation(configOf<{ activation: string }>(layer).activation),
  emit: (ctx, layer, [x]) => [emitActivation(ctx, x, configOf<{ activation: string }>(layer).activation, layer.name)],
};

const reluLayer: LayerConverter = {
  emit(ctx, layer, [x]) {
    const { maxValue } = configOf<{ maxValue?: number | null }>(layer);
    const b = ctx.builder;
    if (maxValue == null) return [{ name: b.node('Relu', [x.name], layer.name), layout: x.layout }];
    const bounds = [b.scalar(`${layer.name}/min`, 0), b.scalar(`${layer.name}/max`, maxValue)];
    return [{ name: b.node('Clip', [x.name, ...bounds], layer.name), layout: x.layout }];
  },
};

const leakyReluLayer: LayerConverter = {
  emit(ctx, layer, [x]) {
    const { alpha } = configOf<{ alpha: number }>(layer);
    return [{ name: ctx.builder.node('LeakyRelu', [x.name], layer.name, { alpha: attr.float(alpha) }), layout: x.layout }];
  },
};

const eluLayer: LayerConverter = {
  emit(ctx, layer, [x]) {
    const { alpha } = configOf<{ alpha: number }>(layer);
    return [{ name: ctx.builder.node('Elu', [x.name], layer.name, { alpha: attr.float(alpha) }), layout: x.layout }];
  },
};

const thresholdedReluLayer: LayerConverter = {
  emit(ctx, layer, [x]) {
    const { theta } = configOf<{ theta: number }>(layer);
    return [{ name: ctx.builder.node('ThresholdedRelu', [x.name], layer.name, { alpha: attr.float(theta) }), layout: x.layout }];
  },
};

const softmaxLayer: LayerConverter = {
  check(layer) {
    const { axis } = configOf<{ axis: number | number[] }>(layer);
    return Array.isArray(axis) && axis.length !== 1 ? `softmax over several axes [${axis.join(', ')}]` : undefined;
  },
  emit(ctx, layer, [x]) {
    const { axis } = configOf<{ axis: number | number[] }>(layer);
    const kerasAxis = Array.isArray(axis) ? axis[0] : axis;
    const onnxAxis = layoutAxis(kerasAxis, x.shape.length, x.layout);
    return [{ name: ctx.builder.node('Softmax', [x.name], layer.name, { axis: attr.int(onnxAxis) }), layout: x.layout }];
  },
};

export const activationConverters: Record<string, LayerConverter> = {
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  ThresholdedReLU: thresholdedReluLayer,
  Softmax: softmaxLayer,
};
