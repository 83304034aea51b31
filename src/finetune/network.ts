import { tf } from '../engine/backend.js';
import { fillDropoutMask, type Random } from '../heads/random.js';
import { conv2dTrainable, depthwiseConv2dTrainable, hasNativeConvGradients, type ConvGeometry } from './conv-grad.js';
import { UnsupportedTrainableLayerError } from './errors.js';
import { frozenFrontier, runGraph } from './graph.js';
import type { HeadLayers } from './head.js';
import type { UnfreezeSpec } from './types.js';
import { resolveUnfreeze, type UnfreezePlan } from './unfreeze.js';

type Layer = tf.layers.Layer;

export interface ForwardOptions {
  /** Draw dropout masks from this stream (training); absent: Dropout is the identity (inference). */
  dropout?: Random;
  /** Running under a gradient tape: convolutions take the gradient path this backend supports. */
  differentiable?: boolean;
}

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D']);

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [v as number, v as number]);

/**
 * The model being fine-tuned: the base (no top, average pooling) with the head on top, as one
 * functional model, split at the frozen frontier. Frozen layers have `trainable = false`; every layer
 * is called with `training: false`, so BatchNormalization always normalises with its moving statistics
 * and never updates them (Keras' advice for fine-tuning), while the trainable layers, BatchNormalization's
 * gamma and beta included, still get gradients. Dropout is applied by us, from a seeded stream.
 */
export class FinetuneNetwork {
  private constructor(
    /** Base + head, one functional model sharing the base's layers. Owns every weight: `dispose()` frees them. */
    readonly model: tf.LayersModel,
    readonly plan: UnfreezePlan,
    readonly headLayers: Layer[],
    /** Outputs of frozen layers that trainable layers read: what the frozen part computes and a cache may keep. */
    readonly frontier: tf.SymbolicTensor[],
  ) {}

  /**
   * Puts `head` on `base` and freezes what `unfreeze` leaves out. Takes ownership of `base` (dispose the
   * network, not the base) and of `head.weights`. Throws UnfreezeSpecError before changing anything.
   */
  static create(base: tf.LayersModel, head: HeadLayers, unfreeze: UnfreezeSpec): FinetuneNetwork {
    try {
      const plan = resolveUnfreeze(base, unfreeze);
      let output = base.outputs[0]!;
      for (const layer of head.layers) output = layer.apply(output) as tf.SymbolicTensor;
      head.layers.forEach((layer, i) => head.weights && layer.setWeights(head.weights[i]!));
      const model = tf.model({ inputs: base.inputs, outputs: output, name: `${base.name}_finetuned` });
      for (const layer of plan.frozen) layer.trainable = false;
      for (const layer of [...plan.trainable, ...head.layers]) layer.trainable = true;
      const frozen = new Set(plan.frozen);
      return new FinetuneNetwork(model, plan, head.layers, frozenFrontier(model, (l) => frozen.has(l)));
    } finally {
      // The layers copied them (setWeights), or the build failed: either way they are ours to free.
      tf.dispose(head.weights);
    }
  }

  get inputShape(): [number, number, number] {
    return this.model.inputs[0]!.shape.slice(1) as [number, number, number];
  }

  get numClasses(): number {
    return this.model.outputs[0]!.shape[1] as number;
  }

  /** The variables a step updates, in model order (the order the optimizer's slots follow). */
  trainableVariables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** Parameter counts of the trainable and frozen parts (BatchNormalization moving statistics count as frozen, as in Keras). */
  paramCounts(): { trainable: number; frozen: number } {
    const count = (weights: tf.LayerVariable[]) => weights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
    return { trainable: count(this.model.trainableWeights), frozen: count(this.model.nonTrainableWeights) };
  }

  /** The frontier activations of a preprocessed batch [n, h, w, 3]. New tensors the caller owns; `x` is left alone. */
  frozenForward(x: tf.Tensor4D): tf.Tensor[] {
    return tf.tidy(() => {
      const seeds = new Map([[this.model.inputs[0]!.id, x as tf.Tensor]]);
      const values = runGraph(seeds, this.frontier, (layer, inputs) => this.call(layer, inputs, {}));
      // The input itself is on the frontier when everything trains: hand out a copy, never the caller's tensor.
      return values.map((v) => (v === x ? v.clone() : v));
    });
  }

  /**
   * Class probabilities [n, classes] from frontier activations (in `frontier` order). Not tidied: it
   * runs inside the caller's gradient function or tf.tidy, which own the intermediates and the result.
   */
  trainableForward(frontier: readonly tf.Tensor[], options: ForwardOptions = {}): tf.Tensor2D {
    const seeds = new Map(this.frontier.map((t, i) => [t.id, frontier[i]!]));
    const [probs] = runGraph(seeds, this.model.outputs, (layer, inputs) => this.call(layer, inputs, options));
    return probs as tf.Tensor2D;
  }

  /** Inference on a preprocessed batch: probabilities [n, classes] the caller owns. */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.trainableForward(this.frozenForward(x)));
  }

  dispose(): void {
    this.model.dispose();
  }

  private call(layer: Layer, inputs: tf.Tensor[], options: ForwardOptions): tf.Tensor[] {
    const className = layer.getClassName();
    if (className === 'Dropout') return [options.dropout ? dropout(layer, inputs[0]!, options.dropout) : inputs[0]!];
    if (options.differentiable && CONV_CLASSES.has(className) && !hasNativeConvGradients(className)) return [convWithGradients(layer, inputs[0] as tf.Tensor4D)];
    if (options.differentiable && className === 'BatchNormalization') {
      const affine = batchNormAsAffine(layer, inputs[0]!);
      if (affine) return [affine];
    }
    const output = layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }) as tf.Tensor | tf.Tensor[];
    return Array.isArray(output) ? output : [output];
  }
}

/** Inverted dropout with a mask from our seeded stream (TF.js' Dropout would repeat one mask when seeded). */
function dropout(layer: Layer, x: tf.Tensor, random: Random): tf.Tensor {
  const rate = layer.getConfig().rate as number;
  if (rate === 0) return x;
  const mask = fillDropoutMask(new Float32Array(x.size), x.size, rate, random);
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/** A Conv2D / DepthwiseConv2D call whose weight gradients this backend can compute (see conv-grad.ts). */
function convWithGradients(layer: Layer, x: tf.Tensor4D): tf.Tensor {
  const config = layer.getConfig();
  if (config.dataFormat !== 'channelsLast' || (config.padding !== 'same' && config.padding !== 'valid')) {
    throw new UnsupportedTrainableLayerError(
      `Layer '${layer.name}' (${layer.getClassName()}, ${String(config.dataFormat)}, padding ${String(config.padding)}) cannot be trained on the ` +
        `${tf.getBackend()} backend: unfreeze fewer layers.`,
    );
  }
  const geometry: ConvGeometry = { strides: pair(config.strides), pad: config.padding, dilations: pair(config.dilationRate ?? 1) };
  const [kernel, bias] = layer.weights.map((w) => w.read());
  const conv = layer.getClassName() === 'Conv2D' ? conv2dTrainable : depthwiseConv2dTrainable;
  let y: tf.Tensor = conv(x, kernel as tf.Tensor4D, geometry);
  if (config.useBias) y = tf.add(y, bias!);
  // The layer's own activation object (TF.js keeps it protected): the same function its call applies.
  return (layer as unknown as { activation: { apply(t: tf.Tensor): tf.Tensor } }).activation.apply(y);
}

/**
 * BatchNormalization in inference mode is the affine map x · a + b, a = γ / √(σ² + ε), b = β − μ · a.
 * Written so for the gradient pass: TF.js' own batchNorm gradient tiles 1/√(σ² + ε) to the size of x
 * (measured: a third of a DenseNet conv5 step on wasm), where a broadcast multiply does. The moving
 * statistics are read, never written. Undefined for layouts other than channels-last (the layer's own call then runs).
 */
function batchNormAsAffine(layer: Layer, x: tf.Tensor): tf.Tensor | undefined {
  const config = layer.getConfig();
  const axis = Array.isArray(config.axis) ? config.axis : [config.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== x.rank - 1)) return undefined;
  const weight = (name: string) => layer.weights.find((w) => w.originalName.endsWith(`/${name}`))?.read();
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map(weight);
  const scale = tf.rsqrt(tf.add(variance!, config.epsilon as number));
  const a = gamma ? tf.mul(gamma, scale) : scale;
  const b = tf.neg(tf.mul(mean!, a));
  return tf.add(tf.mul(x, a), beta ? tf.add(beta, b) : b);
}
