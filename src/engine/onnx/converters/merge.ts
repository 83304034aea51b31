import type * as tf from '@tensorflow/tfjs';
import { attr } from '../graph-builder.js';
import { layoutAxis, type EmitContext, type KerasShape, type Value } from '../layout.js';
import { configOf, layoutFor, type LayerConverter } from './types.js';

/**
 * Keras broadcasts merge inputs of different ranks by inserting axes after the batch, ONNX by
 * aligning trailing axes: only equal ranks are exported.
 */
function checkEqualRanks(_layer: tf.layers.Layer, inputShapes: readonly KerasShape[]): string | undefined {
  const ranks = new Set(inputShapes.map((s) => s.length));
  return ranks.size > 1 ? `inputs of different ranks (${[...ranks].join(', ')})` : undefined;
}

/**
 * Element-wise merges run in the inputs' common layout (NCHW inside conv stacks: no transposes).
 * A binary op (Add, Mul) folds more than two inputs left to right, as Keras does; a variadic one
 * (Mean, Max, Min) takes them all.
 */
function elementwise(op: string, variadic: boolean): LayerConverter {
  return {
    check: checkEqualRanks,
    emit(ctx, layer, inputs, [shape]) {
      const layout = ctx.commonLayout(inputs);
      const names = inputs.map((v) => ctx.as(v, layout));
      const b = ctx.builder;
      const out = variadic
        ? b.node(op, names, layer.name)
        : names.slice(1).reduce((acc, n, i) => b.node(op, [acc, n], i === names.length - 2 ? layer.name : `${layer.name}/${i}`), names[0]);
      return [{ name: out, layout: layoutFor(shape, layout === 'NCHW' ? 'NCHW' : 'NHWC') }];
    },
  };
}

/** Concatenation on the channel axis stays NCHW (axis 1): DenseNet blocks need no transposes. */
const concatenate: LayerConverter = {
  check: checkEqualRanks,
  emit(ctx: EmitContext, layer, inputs: readonly Value[], [shape]) {
    const { axis } = configOf<{ axis: number }>(layer);
    const layout = ctx.commonLayout(inputs);
    const onnxAxis = layoutAxis(axis, shape.length, layout);
    const name = ctx.builder.node('Concat', inputs.map((v) => ctx.as(v, layout)), layer.name, { axis: attr.int(onnxAxis) });
    return [{ name, layout: layoutFor(shape, layout === 'NCHW' ? 'NCHW' : 'NHWC') }];
  },
};

export const mergeConverters: Record<string, LayerConverter> = {
  Add: elementwise('Add', false),
  Multiply: elementwise('Mul', false),
  Average: elementwise('Mean', true),
  Maximum: elementwise('Max', true),
  Minimum: elementwise('Min', true),
  Concatenate: concatenate,
};
