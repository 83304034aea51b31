import type * as tf from '@tensorflow/tfjs';
import { attr } from '../graph-builder.js';
import type { EmitContext, Emitted, KerasShape, Value } from '../layout.js';
import { paddingAttributes } from '../padding.js';
import { depthwiseToOnnx, hwioToOihw, readWeight } from '../weights.js';
import { checkActivation, emitActivation } from './activation.js';
import { checkChannelsLast, configOf, type LayerConverter } from './types.js';

interface ConvConfig {
  kernelSize: number | number[];
  strides: number | number[];
  padding: string;
  dilationRate: number | number[];
  activation: string;
  useBias: boolean;
  depthMultiplier?: number;
}

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[v.length > 1 ? 1 : 0]] : [v, v]);

function checkConv(layer: tf.layers.Layer): string | undefined {
  const config = configOf<ConvConfig>(layer);
  if (config.padding !== 'same' && config.padding !== 'valid') return `padding '${config.padding}'`;
  return checkChannelsLast(layer) ?? checkActivation(config.activation);
}

/** Emits an NCHW Conv node for `weight` (already OIHW) with the layer's window settings. */
function emitConv(
  ctx: EmitContext,
  layer: tf.layers.Layer,
  x: Value,
  weight: { data: Float32Array; dims: number[] },
  options: { group: number; bias?: Float32Array; base: string; windowed: boolean },
): string {
  const config = configOf<ConvConfig>(layer);
  const b = ctx.builder;
  const kernel = [weight.dims[2], weight.dims[3]];
  // A pointwise conv after a separable depthwise step has unit window, stride and dilation.
  const strides = options.windowed ? pair(config.strides) : [1, 1];
  const dilations = options.windowed ? pair(config.dilationRate) : [1, 1];
  const padding = options.windowed ? config.padding : 'valid';
  const inputs = [ctx.nchw(x), b.floats(`${options.base}/weight`, weight.data, weight.dims)];
  if (options.bias) inputs.push(b.floats(`${options.base}/bias`, options.bias, [options.bias.length]));
  return b.node('Conv', inputs, options.base, {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    group: attr.int(options.group),
    ...paddingAttributes(padding, [x.shape[1], x.shape[2]], kernel, strides, dilations),
  });
}

function finish(ctx: EmitContext, layer: tf.layers.Layer, name: string, shape: KerasShape): Emitted[] {
  const activation = configOf<ConvConfig>(layer).activation;
  const conv: Value = { name, layout: 'NCHW', shape };
  return [emitActivation(ctx, conv, activation, `${layer.name}/${activation}`)];
}

const biasOf = (layer: tf.layers.Layer) => (configOf<ConvConfig>(layer).useBias ? readWeight(layer, 'bias').data : undefined);

const conv2d: LayerConverter = {
  check: checkConv,
  emit(ctx, layer, [x], [shape]) {
    const kernel = readWeight(layer, 'kernel');
    const name = emitConv(ctx, layer, x, hwioToOihw(kernel.data, kernel.shape), {
      group: 1,
      bias: biasOf(layer),
      base: layer.name,
      windowed: true,
    });
    return finish(ctx, layer, name, shape);
  },
};

/** Depthwise: a grouped conv with one group per input channel and depthMultiplier outputs each. */
const depthwiseConv2d: LayerConverter = {
  check: checkConv,
  emit(ctx, layer, [x], [shape]) {
    const kernel = readWeight(layer, 'depthwise_kernel');
    const name = emitConv(ctx, layer, x, depthwiseToOnnx(kernel.data, kernel.shape), {
      group: kernel.shape[2],
      bias: biasOf(layer),
      base: layer.name,
      windowed: true,
    });
    return finish(ctx, layer, name, shape);
  },
};

/** Separable: the depthwise step (no bias) then a 1×1 pointwise conv that carries the bias. */
const separableConv2d: LayerConverter = {
  check: checkConv,
  emit(ctx, layer, [x], [shape]) {
    const depthwise = readWeight(layer, 'depthwise_kernel');
    const pointwise = readWeight(layer, 'pointwise_kernel');
    const mid = emitConv(ctx, layer, x, depthwiseToOnnx(depthwise.data, depthwise.shape), {
      group: depthwise.shape[2],
      base: `${layer.name}/depthwise`,
      windowed: true,
    });
    const midValue: Value = { name: mid, layout: 'NCHW', shape: x.shape };
    const name = emitConv(ctx, layer, midValue, hwioToOihw(pointwise.data, pointwise.shape), {
      group: 1,
      bias: biasOf(layer),
      base: layer.name,
      windowed: false,
    });
    return finish(ctx, layer, name, shape);
  },
};

export const convConverters: Record<string, LayerConverter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
};
