import { attr } from '../graph-builder.js';
import type { Value } from '../layout.js';
import { readWeight } from '../weights.js';
import { checkActivation, emitActivation } from './activation.js';
import { configOf, layoutFor, type LayerConverter } from './types.js';

/**
 * Dense works on the last axis in TF.js element order: Gemm for [N, D] inputs, MatMul + Add
 * (broadcast over the leading axes) for higher ranks.
 */
const dense: LayerConverter = {
  check: (layer) => checkActivation(configOf<{ activation: string }>(layer).activation),
  emit(ctx, layer, [x], [shape]) {
    const { activation, useBias } = configOf<{ activation: string; useBias: boolean }>(layer);
    const b = ctx.builder;
    const kernel = readWeight(layer, 'kernel');
    const weight = b.floats(`${layer.name}/kernel`, kernel.data, kernel.shape);
    const bias = useBias ? readWeight(layer, 'bias').data : undefined;
    const biasName = bias && b.floats(`${layer.name}/bias`, bias, [bias.length]);
    const input = ctx.nhwc(x);
    const base = activation === 'linear' ? layer.name : `${layer.name}/linear`;
    let out: string;
    if (x.shape.length === 2) {
      out = b.node(biasName ? 'Gemm' : 'MatMul', biasName ? [input, weight, biasName] : [input, weight], base);
    } else {
      const product = b.node('MatMul', [input, weight], biasName ? `${layer.name}/matmul` : base);
      out = biasName ? b.node('Add', [product, biasName], base) : product;
    }
    const layout = layoutFor(shape, 'NHWC');
    return [emitActivation(ctx, { name: out, layout, shape }, activation, layer.name)];
  },
};

/** Flatten must see TF.js element order, or the following Dense weights would not line up. */
const flatten: LayerConverter = {
  emit(ctx, layer, [x]) {
    if (x.shape.length === 2) return [{ name: x.name, layout: 'plain' }];
    return [{ name: ctx.builder.node('Flatten', [ctx.nhwc(x)], layer.name, { axis: attr.int(1) }), layout: 'plain' }];
  },
};

/** Keras targetShape excludes the batch; ONNX's 0 copies the (dynamic) batch dimension. */
const reshape: LayerConverter = {
  emit(ctx, layer, [x], [shape]) {
    const { targetShape } = configOf<{ targetShape: Array<number | null> }>(layer);
    const b = ctx.builder;
    const dims = b.int64s(`${layer.name}/shape`, [0, ...targetShape.map((d) => d ?? -1)]);
    return [{ name: b.node('Reshape', [ctx.nhwc(x), dims], layer.name), layout: layoutFor(shape, 'NHWC') }];
  },
};

/** Keras dims are 1-based and exclude the batch. */
const permute: LayerConverter = {
  emit(ctx, layer, [x], [shape]) {
    const { dims } = configOf<{ dims: number[] }>(layer);
    const name = ctx.builder.node('Transpose', [ctx.nhwc(x)], layer.name, { perm: attr.ints([0, ...dims]) });
    return [{ name, layout: layoutFor(shape, 'NHWC') }];
  },
};

/** x·scale + offset, element-wise, in whatever layout x is. */
const rescaling: LayerConverter = {
  check(layer) {
    const { scale, offset } = configOf<{ scale: unknown; offset: unknown }>(layer);
    return typeof scale === 'number' && typeof offset === 'number' ? undefined : 'non-scalar scale or offset';
  },
  emit(ctx, layer, [x]) {
    const { scale, offset } = configOf<{ scale: number; offset: number }>(layer);
    const b = ctx.builder;
    const scaled = b.node('Mul', [x.name, b.scalar(`${layer.name}/scale`, scale)], `${layer.name}/scaled`);
    return [{ name: b.node('Add', [scaled, b.scalar(`${layer.name}/offset`, offset)], layer.name), layout: x.layout }];
  },
};

/** Inference-time identities: no node, the layer's output is its input. */
const identity: LayerConverter = {
  emit: (_ctx, _layer, [x]: readonly Value[]) => [{ name: x.name, layout: x.layout }],
};

export const coreConverters: Record<string, LayerConverter> = {
  Dense: dense,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Rescaling: rescaling,
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianDropout: identity,
  GaussianNoise: identity,
  AlphaDropout: identity,
};
