import type * as tf from '@tensorflow/tfjs';
import { attr } from '../graph-builder.js';
import type { EmitContext, Emitted, Value } from '../layout.js';
import { hasWeight, readWeight } from '../weights.js';
import { configOf, type LayerConverter } from './types.js';

interface BatchNormConfig {
  axis: number | number[];
  epsilon: number;
  center: boolean;
  scale: boolean;
}

interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** gamma/beta are absent when scale/center are off: they act as ones/zeros. */
function params(layer: tf.layers.Layer): BatchNormParams {
  const { epsilon } = configOf<BatchNormConfig>(layer);
  const mean = readWeight(layer, 'moving_mean').data;
  const variance = readWeight(layer, 'moving_variance').data;
  const gamma = hasWeight(layer, 'gamma') ? readWeight(layer, 'gamma').data : new Float32Array(mean.length).fill(1);
  const beta = hasWeight(layer, 'beta') ? readWeight(layer, 'beta').data : new Float32Array(mean.length);
  return { gamma, beta, mean, variance, epsilon };
}

/** The ONNX BatchNormalization op normalises axis 1: NCHW channels, or the features of [N, D]. */
function emitBatchNormOp(ctx: EmitContext, layer: tf.layers.Layer, input: string, p: BatchNormParams): string {
  const b = ctx.builder;
  const dims = [p.mean.length];
  const inputs = [
    input,
    b.floats(`${layer.name}/gamma`, p.gamma, dims),
    b.floats(`${layer.name}/beta`, p.beta, dims),
    b.floats(`${layer.name}/moving_mean`, p.mean, dims),
    b.floats(`${layer.name}/moving_variance`, p.variance, dims),
  ];
  return b.node('BatchNormalization', inputs, layer.name, { epsilon: attr.float(p.epsilon) });
}

/**
 * Any other axis: fold to x·s + t, s = γ/√(σ²+ε), t = β − μ·s (in float64), shaped to broadcast
 * along `axis` of the TF.js-ordered value.
 */
function emitFolded(ctx: EmitContext, layer: tf.layers.Layer, x: Value, axis: number, p: BatchNormParams): string {
  const b = ctx.builder;
  const scale = new Float32Array(p.mean.length);
  const shift = new Float32Array(p.mean.length);
  for (let i = 0; i < scale.length; i++) {
    const s = p.gamma[i] / Math.sqrt(p.variance[i] + p.epsilon);
    scale[i] = s;
    shift[i] = p.beta[i] - p.mean[i] * s;
  }
  const dims = [scale.length, ...new Array<number>(x.shape.length - 1 - axis).fill(1)];
  const scaled = b.node('Mul', [ctx.nhwc(x), b.floats(`${layer.name}/scale`, scale, dims)], `${layer.name}/scaled`);
  return b.node('Add', [scaled, b.floats(`${layer.name}/shift`, shift, dims)], layer.name);
}

const batchNormalization: LayerConverter = {
  check(layer) {
    const { axis } = configOf<BatchNormConfig>(layer);
    return Array.isArray(axis) && axis.length !== 1 ? `normalisation over several axes [${axis.join(', ')}]` : undefined;
  },
  emit(ctx, layer, [x]): Emitted[] {
    const config = configOf<BatchNormConfig>(layer);
    const rank = x.shape.length;
    const rawAxis = Array.isArray(config.axis) ? config.axis[0] : config.axis;
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    const p = params(layer);
    if (rank === 4 && axis === 3) return [{ name: emitBatchNormOp(ctx, layer, ctx.nchw(x), p), layout: 'NCHW' }];
    if (rank === 2 && axis === 1) return [{ name: emitBatchNormOp(ctx, layer, x.name, p), layout: 'plain' }];
    return [{ name: emitFolded(ctx, layer, x, axis, p), layout: rank === 4 ? 'NHWC' : 'plain' }];
  },
};

export const normalizationConverters: Record<string, LayerConverter> = {
  BatchNormalization: batchNormalization,
};
