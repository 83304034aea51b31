import { tf } from '../engine/backend.js';
import { WeightsMismatchError } from './errors.js';
import { LayerIndex } from './layerIndex.js';
import type { LayerWeights, WeightArray } from './types.js';

type Layer = tf.layers.Layer;

export interface ApplyWeightsOptions {
  /** Source layer name → model layer name, for layers Keras renamed (DenseNet's 'fc1000' → 'predictions'). */
  aliases?: Record<string, string>;
  /** Leave model layers that the source lacks as they are instead of throwing. @default false */
  skipMissing?: boolean;
}

/** One model layer and the source weights that fit it, in the model's weight order. */
export interface LayerAssignment {
  layer: Layer;
  weights: WeightArray[];
}

export interface WeightsPlan {
  assignments: LayerAssignment[];
  /** Model layers with weights that the source lacked (only with skipMissing). */
  skipped: string[];
}

/**
 * Matches every weighted layer of `model` to a same-named source layer and checks the number and shape
 * of its weights, without changing the model. Source layers the model does not have are ignored, as
 * Keras' by-name loading does. Throws WeightsMismatchError at the first layer that does not fit.
 */
export function planWeights(model: tf.LayersModel, source: LayerWeights, options: ApplyWeightsOptions = {}): WeightsPlan {
  const index = new LayerIndex(source, options.aliases);
  const plan: WeightsPlan = { assignments: [], skipped: [] };
  for (const layer of weightedLayers(model)) {
    const found = index.find(layer.name);
    if (!found) {
      if (options.skipMissing) plan.skipped.push(layer.name);
      else throw missingLayer(model, layer, index);
      continue;
    }
    plan.assignments.push({ layer, weights: orderedFor(layer, found.weights) });
  }
  return plan;
}

/**
 * Loads `source` into `model` by layer name (Keras `load_weights(by_name=True)` semantics, but strict:
 * a shape mismatch or a missing layer throws WeightsMismatchError naming the layer, the weight and both
 * shapes). All layers are checked before any is written, so a failure leaves the model unchanged.
 * Returns the names of the layers left as they were (skipMissing).
 */
export function applyWeights(model: tf.LayersModel, source: LayerWeights, options: ApplyWeightsOptions = {}): { loaded: string[]; skipped: string[] } {
  return applyPlan(planWeights(model, source, options));
}

/** Writes a checked plan into its layers. The temporary tensors are disposed; the layers keep copies. */
export function applyPlan(plan: WeightsPlan): { loaded: string[]; skipped: string[] } {
  for (const { layer, weights } of plan.assignments) {
    const tensors = weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
  return { loaded: plan.assignments.map((a) => a.layer.name), skipped: plan.skipped };
}

/**
 * The source restricted to the model's layers, renamed to the model's layer and weight names and in its
 * order: the canonical form that is cached, so a cache entry loads with exact names.
 */
export function canonicalWeights(plan: WeightsPlan): LayerWeights {
  return plan.assignments.map(({ layer, weights }) => ({
    layer: layer.name,
    weights: weights.map((w, i) => ({ ...w, name: shortName(layer, i) })),
  }));
}

/** Layers that own weights, nested models flattened. */
function weightedLayers(model: tf.LayersModel): Layer[] {
  return model.layers.flatMap((layer) => (layer instanceof tf.LayersModel ? weightedLayers(layer) : layer.weights.length > 0 ? [layer] : []));
}

/** The model's name for its i-th weight, relative to the layer: 'kernel', 'moving_mean'. */
function shortName(layer: Layer, i: number): string {
  const name = layer.weights[i]!.originalName;
  return name.startsWith(`${layer.name}/`) ? name.slice(layer.name.length + 1) : name;
}

const lastSegment = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/**
 * The source weights in the model's order, shapes checked. Order is by name when every model weight
 * name occurs once in the source (TF.js saves trainable weights before non-trainable ones), else by
 * position, which is what Keras files guarantee.
 */
function orderedFor(layer: Layer, source: WeightArray[]): WeightArray[] {
  const names = layer.weights.map((_, i) => lastSegment(shortName(layer, i)));
  if (source.length !== names.length) {
    throw new WeightsMismatchError(
      `Layer '${layer.name}' has ${names.length} weight(s) in the model (${names.join(', ')}) but ${source.length} in the file (${source.map((w) => w.name).join(', ')}).`,
      { layer: layer.name, expected: names.length, actual: source.length },
    );
  }
  const byName = new Map(source.map((w) => [lastSegment(w.name), w]));
  const ordered = byName.size === source.length && names.every((n) => byName.has(n)) ? names.map((n) => byName.get(n)!) : source;
  ordered.forEach((w, i) => checkShape(layer.name, names[i]!, layer.weights[i]!.shape as number[], w));
  return ordered;
}

function checkShape(layer: string, weight: string, expected: number[], source: WeightArray): void {
  const same = expected.length === source.shape.length && expected.every((d, i) => d === source.shape[i]);
  if (!same) {
    throw new WeightsMismatchError(
      `Layer '${layer}' weight '${weight}': model expects [${expected.join(',')}], file has [${source.shape.join(',')}].`,
      { layer, weight, expected, actual: source.shape },
    );
  }
}

function missingLayer(model: tf.LayersModel, layer: Layer, index: LayerIndex): WeightsMismatchError {
  const sample = index.sampleNames();
  const more = index.source.length > sample.length ? `, … (${index.source.length} layers)` : '';
  return new WeightsMismatchError(
    `Layer '${layer.name}' of model '${model.name}' has no weights in the file; the file has ${sample.map((n) => `'${n}'`).join(', ')}${more}.`,
    { layer: layer.name },
  );
}
