import { tf } from '../engine/backend.js';
import { glorotUniform } from './init.js';
import { INPUT_LAYER_NAME } from './naming.js';
import type { ResolvedZooOptions } from './validate.js';
import type { Pooling } from './types.js';

/** A symbolic tensor in a model under construction. */
export type Sym = tf.SymbolicTensor;

/** Keras' channels-last batch-norm / concat axis. */
export const CHANNEL_AXIS = 3;

/** Calls a layer on symbolic input(s); TF.js types `apply` loosely, the zoo only builds single-output graphs. */
export function call(layer: tf.layers.Layer, inputs: Sym | Sym[]): Sym {
  return layer.apply(inputs) as Sym;
}

type ConvArgs = NonNullable<Parameters<typeof tf.layers.conv2d>[0]>;
type DenseArgs = NonNullable<Parameters<typeof tf.layers.dense>[0]>;
type DepthwiseArgs = NonNullable<Parameters<typeof tf.layers.depthwiseConv2d>[0]>;

/** `tf.layers.conv2d` with Keras' glorot-uniform kernel, drawn fast (init.ts). */
export function conv2d(args: ConvArgs): tf.layers.Layer {
  return tf.layers.conv2d({ kernelInitializer: glorotUniform(), ...args });
}

/** `tf.layers.dense` with Keras' glorot-uniform kernel, drawn fast (init.ts). */
export function dense(args: DenseArgs): tf.layers.Layer {
  return tf.layers.dense({ kernelInitializer: glorotUniform(), ...args });
}

/** `tf.layers.depthwiseConv2d` with Keras' glorot-uniform kernel, drawn fast (init.ts). */
export function depthwiseConv2d(args: DepthwiseArgs): tf.layers.Layer {
  return tf.layers.depthwiseConv2d({ depthwiseInitializer: glorotUniform(), ...args });
}

/** The image input, named as Keras Applications' first model in a session names it. */
export function imageInput(options: ResolvedZooOptions): Sym {
  return tf.input({ shape: options.inputShape, name: INPUT_LAYER_NAME });
}

/** The Keras Applications classifier: `Dense(classes, activation=classifier_activation, name='predictions')`. */
export function predictions(x: Sym, options: ResolvedZooOptions): Sym {
  return call(dense({ units: options.classes, activation: options.classifierActivation, name: 'predictions' }), x);
}

/** Keras' `GlobalAveragePooling2D` / `GlobalMaxPooling2D` after the last block. */
export function globalPooling(x: Sym, pooling: Pooling, name: string): Sym {
  const layer = pooling === 'avg' ? tf.layers.globalAveragePooling2d({ name }) : tf.layers.globalMaxPooling2d({ name });
  return call(layer, x);
}

/** The names a model gives its pooling layers, with the top ('avg' only) and without ('avg' | 'max'). */
export type PoolingNames = Record<Pooling, string>;

/**
 * The tail every non-VGG builder shares: with the top, global average pooling then `predictions`;
 * without it, the optional `pooling`, else the 4-D feature map as is.
 */
export function classifierOrPooling(x: Sym, options: ResolvedZooOptions, names: PoolingNames): Sym {
  if (options.includeTop) return predictions(globalPooling(x, 'avg', names.avg), options);
  return options.pooling ? globalPooling(x, options.pooling, names[options.pooling]) : x;
}

/** Wraps the graph as a functional model named as Keras names it. The caller owns it. */
export function functionalModel(input: Sym, output: Sym, name: string): tf.LayersModel {
  return tf.model({ inputs: input, outputs: output, name });
}
