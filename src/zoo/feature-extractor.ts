import { tf } from '../engine/backend.js';
import { InvalidArgumentError, listValues } from '../errors.js';
import { globalPooling, type Sym } from './layers.js';
import { poolingLayerName, specForModel } from './registry.js';
import type { Pooling } from './types.js';

/** Where to cut a model: the output of a named layer, or global pooling on a no-top model's feature map. */
export type FeatureCut = { layer: string } | { pooling: Pooling };

const POOLINGS: readonly Pooling[] = ['avg', 'max'];
/** How many layer names an "unknown layer" error lists. */
const SUGGESTIONS = 12;

/**
 * A model that outputs features of `model`: the output of `cut.layer` (4-D outputs as they are), or
 * `cut.pooling` applied to the output of a no-top model (the pooling layer is named as Keras names it
 * for that model, so the result equals building it with `pooling`).
 *
 * The result shares `model`'s layers and weights (no copy, nothing new to dispose except the pooling
 * layer, which has no weights). Weights are freed once: dispose `model` when done with both;
 * disposing the extractor instead frees them too, so do one or the other, not both.
 */
export function featureExtractor(model: tf.LayersModel, cut: FeatureCut): tf.LayersModel {
  if (cut && typeof cut === 'object' && 'layer' in cut) return cutAtLayer(model, cut.layer);
  if (cut && typeof cut === 'object' && 'pooling' in cut) return poolOutput(model, cut.pooling);
  throw new InvalidArgumentError("A feature cut must be { layer: '<name>' } or { pooling: 'avg' | 'max' }.");
}

function cutAtLayer(model: tf.LayersModel, layerName: string): tf.LayersModel {
  const layer = model.layers.find((l) => l.name === layerName);
  if (!layer) throw unknownLayer(model, layerName);
  const output = layer.output as Sym;
  return tf.model({ inputs: model.inputs, outputs: output, name: `${model.name}_${layerName}` });
}

function poolOutput(model: tf.LayersModel, pooling: Pooling): tf.LayersModel {
  if (!POOLINGS.includes(pooling)) {
    throw new InvalidArgumentError(`Unknown pooling '${String(pooling)}': expected ${listValues(POOLINGS)}.`);
  }
  const output = model.outputs[0]!;
  if (model.outputs.length !== 1 || output.rank !== 4) {
    throw new InvalidArgumentError(
      `Pooling needs a model whose output is a 4-D feature map (built with includeTop: false and no pooling); ` +
        `'${model.name}' outputs shape [${output.shape.map(String).join(', ')}].`,
    );
  }
  const spec = specForModel(model);
  const name = spec ? poolingLayerName(spec, pooling) : pooling === 'avg' ? 'global_average_pooling2d' : 'global_max_pooling2d';
  const pooled = globalPooling(output, pooling, name);
  // Same name as the model: Keras' builder with `pooling` gives this graph the model's own name.
  return tf.model({ inputs: model.inputs, outputs: pooled, name: model.name });
}

function unknownLayer(model: tf.LayersModel, layerName: string): InvalidArgumentError {
  const names = model.layers.map((l) => l.name);
  const lower = layerName.toLowerCase();
  const close = names.filter((n) => n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase()));
  const shown = (close.length > 0 ? close : names.slice(-SUGGESTIONS)).slice(0, SUGGESTIONS);
  const more = names.length > shown.length ? ` (${names.length} layers in all; model.layers lists them)` : '';
  return new InvalidArgumentError(`Unknown layer '${layerName}' in model '${model.name}': expected one of ${listValues(shown)}${more}.`);
}
