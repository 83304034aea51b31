import type { tf } from '../engine/backend.js';
import type { LayerWeights } from '../weights/index.js';
import { weightsDigest } from '../weights/index.js';
import { HEAD_LAYER_PREFIX } from './head.js';

type Layer = tf.layers.Layer;

/** A weight's name relative to its layer ('kernel', 'moving_mean'), as the weights cache names it. */
function shortName(layer: Layer, weight: tf.LayerVariable): string {
  const name = weight.originalName;
  return name.startsWith(`${layer.name}/`) ? name.slice(layer.name.length + 1) : name;
}

/** Every weight of the given layers (trainable or not), copied to host arrays, in layer and weight order. */
export function layerWeightsOf(layers: readonly Layer[]): LayerWeights {
  return layers
    .filter((layer) => layer.weights.length > 0)
    .map((layer) => ({
      layer: layer.name,
      weights: layer.weights.map((w) => {
        const tensor = w.read();
        return { name: shortName(layer, w), shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync() as Float32Array) };
      }),
    }));
}

/** The base of a fine-tuned model: every layer that is not part of the head. */
export function baseLayers(model: tf.LayersModel): Layer[] {
  return model.layers.filter((layer) => !layer.name.startsWith(HEAD_LAYER_PREFIX));
}

/**
 * The weights digest of a fine-tuned model's base: the first 16 hex characters of the sha256 of its
 * weights in the cache's canonical file form (weightsFile.ts), as `loadModel` computes it for a weights
 * file. Features extracted with the fine-tuned base live under `features/<model>@<this digest>/…`, a
 * namespace of their own, never mixed with the frozen base's.
 */
export function finetunedNamespaceDigest(model: tf.LayersModel): string {
  return weightsDigest(layerWeightsOf(baseLayers(model)));
}
