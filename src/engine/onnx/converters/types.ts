import type * as tf from '@tensorflow/tfjs';
import type { EmitContext, Emitted, KerasShape, Value } from '../layout.js';

/** Translates one TF.js layer class into ONNX nodes. */
export interface LayerConverter {
  /** Why this layer's configuration cannot be exported (e.g. "dataFormat 'channelsFirst'"); undefined when it can. */
  check?(layer: tf.layers.Layer, inputShapes: readonly KerasShape[]): string | undefined;
  /** Emits the layer's nodes for one call of the layer; returns one value per layer output. */
  emit(ctx: EmitContext, layer: tf.layers.Layer, inputs: readonly Value[], outputShapes: readonly KerasShape[]): Emitted[];
}

/** The layer's Keras config, typed by the caller (TF.js types it as a loose dictionary). */
export function configOf<T>(layer: tf.layers.Layer): T {
  return layer.getConfig() as unknown as T;
}

/** The shared check for image layers: only channels-last data is exported (the zoo is channels-last). */
export function checkChannelsLast(layer: tf.layers.Layer): string | undefined {
  const { dataFormat } = configOf<{ dataFormat?: string }>(layer);
  return dataFormat !== undefined && dataFormat !== 'channelsLast' ? `dataFormat '${dataFormat}'` : undefined;
}

/** The layout of a converter's output: the working layout for 4-D results, 'plain' otherwise. */
export function layoutFor(shape: KerasShape, layout: 'NHWC' | 'NCHW'): Emitted['layout'] {
  return shape.length === 4 ? layout : 'plain';
}
