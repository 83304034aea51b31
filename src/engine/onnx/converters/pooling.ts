import type * as tf from '@tensorflow/tfjs';
import { attr, type Attribute } from '../graph-builder.js';
import type { EmitContext, Emitted, Value } from '../layout.js';
import { paddingAttributes } from '../padding.js';
import { checkChannelsLast, configOf, type LayerConverter } from './types.js';

interface PoolConfig {
  poolSize: number | number[];
  strides: number | number[] | null;
  padding: string;
}

const pair = (v: number | number[]): number[] => (Array.isArray(v) ? [v[0], v[v.length > 1 ? 1 : 0]] : [v, v]);

function checkPool(layer: tf.layers.Layer): string | undefined {
  const { padding } = configOf<PoolConfig>(layer);
  return padding !== 'same' && padding !== 'valid' ? `padding '${padding}'` : checkChannelsLast(layer);
}

function emitPool(op: 'MaxPool' | 'AveragePool', ctx: EmitContext, layer: tf.layers.Layer, x: Value): Emitted[] {
  const config = configOf<PoolConfig>(layer);
  const kernel = pair(config.poolSize);
  const strides = pair(config.strides ?? config.poolSize);
  const name = ctx.builder.node(op, [ctx.nchw(x)], layer.name, {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(strides),
    ...(op === 'MaxPool' ? maxPoolPadding(config.padding) : averagePoolPadding(config.padding, x, kernel, strides)),
  });
  return [{ name, layout: 'NCHW' }];
}

/**
 * MaxPool pads with -inf, a ZeroPadding2D before it with 0. ONNX Runtime's PadFusion folds a zero Pad
 * into a following MaxPool's explicit `pads` anyway (wrong where a window's values are all negative,
 * and a load error when the pad reaches the window size); it leaves a MaxPool with `auto_pad` alone.
 * SAME_UPPER is TF's 'same' rule (extra padding at the end), VALID is no padding.
 */
function maxPoolPadding(padding: string): Record<string, Attribute> {
  return { auto_pad: attr.string(padding === 'same' ? 'SAME_UPPER' : 'VALID') };
}

/** TF's 'same' average divides by the pixels inside the image only: count_include_pad = 0. */
function averagePoolPadding(padding: string, x: Value, kernel: number[], strides: number[]): Record<string, Attribute> {
  return { ...paddingAttributes(padding, [x.shape[1], x.shape[2]], kernel, strides), count_include_pad: attr.int(0) };
}

/** Global pooling: the ONNX op keeps [N, C, 1, 1]; Keras returns [N, C]. */
function emitGlobalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool', ctx: EmitContext, layer: tf.layers.Layer, x: Value): Emitted[] {
  const b = ctx.builder;
  const pooled = b.node(op, [ctx.nchw(x)], `${layer.name}/pool`);
  return [{ name: b.node('Flatten', [pooled], layer.name, { axis: attr.int(1) }), layout: 'plain' }];
}

const zeroPadding2d: LayerConverter = {
  check: checkChannelsLast,
  emit(ctx, layer, [x]) {
    const { padding } = configOf<{ padding: number | number[] | number[][] }>(layer);
    const [[top, bottom], [left, right]] = normaliseZeroPadding(padding);
    const b = ctx.builder;
    const pads = b.int64s(`${layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
    return [{ name: b.node('Pad', [ctx.nchw(x), pads], layer.name, { mode: attr.string('constant') }), layout: 'NCHW' }];
  },
};

/** Keras accepts p, [ph, pw] or [[top, bottom], [left, right]]. */
function normaliseZeroPadding(padding: number | number[] | number[][]): [[number, number], [number, number]] {
  if (typeof padding === 'number') return [[padding, padding], [padding, padding]];
  const [h, w] = padding as Array<number | number[]>;
  const axis = (p: number | number[]): [number, number] => (Array.isArray(p) ? [p[0], p[1]] : [p, p]);
  return [axis(h), axis(w)];
}

export const poolingConverters: Record<string, LayerConverter> = {
  MaxPooling2D: { check: checkPool, emit: (ctx, layer, [x]) => emitPool('MaxPool', ctx, layer, x) },
  AveragePooling2D: { check: checkPool, emit: (ctx, layer, [x]) => emitPool('AveragePool', ctx, layer, x) },
  GlobalAveragePooling2D: { check: checkChannelsLast, emit: (ctx, layer, [x]) => emitGlobalPool('GlobalAveragePool', ctx, layer, x) },
  GlobalMaxPooling2D: { check: checkChannelsLast, emit: (ctx, layer, [x]) => emitGlobalPool('GlobalMaxPool', ctx, layer, x) },
  ZeroPadding2D: zeroPadding2d,
};
