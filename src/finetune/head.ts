import { tf } from '../engine/backend.js';
import { listValues } from '../errors.js';
import { PREDICTIONS_NAME, denseName } from '../heads/model.js';
import { loadHead } from '../registry/load.js';
import type { HeadInfo } from '../registry/types.js';
import type { ObjectStore } from '../store/index.js';
import type { ModelSpec } from '../zoo/index.js';
import { HeadMismatchError } from './errors.js';
import { checkHeadFitsBase } from './head-check.js';

/** Every head layer's name starts with this (the head core's names do too): it is how a saved model's head is told from its base. */
export const HEAD_LAYER_PREFIX = 'head_';
export const INPUT_DROPOUT_NAME = 'head_input_dropout';

/** Unconnected head layers, applied in order on the pooled features; `weights[i]` (when given) goes into `layers[i]` once built. */
export interface HeadLayers {
  layers: tf.layers.Layer[];
  weights?: tf.Tensor[][];
  fromHead: string | null;
}

/**
 * The fresh head of the Keras recipe: Dropout → Dense(hidden, relu) → Dense(classes, softmax), Glorot
 * kernels seeded from `seed` (the same request starts from the same head), zero biases.
 */
export function freshHead(numClasses: number, options: { hidden: number; dropout: number; seed: number }): HeadLayers {
  const dense = (units: number, activation: 'relu' | 'softmax', name: string, seed: number) =>
    tf.layers.dense({ units, activation, name, kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros' });
  const layers = [
    ...(options.dropout > 0 ? [tf.layers.dropout({ rate: options.dropout, name: INPUT_DROPOUT_NAME })] : []),
    dense(options.hidden, 'relu', denseName(1), options.seed >>> 0),
    dense(numClasses, 'softmax', PREDICTIONS_NAME, (options.seed + 1) >>> 0),
  ];
  return { layers, fromHead: null };
}

/** The head's own feature layer is the no-top model's average pooling: the base's output here. */
function checkFeatures(headId: string, info: HeadInfo, spec: ModelSpec, dim: number): void {
  checkHeadFitsBase(headId, info, spec);
  if (info.inputDim !== dim) throw new HeadMismatchError(`Head '${headId}' takes ${info.inputDim}-d features; the base gives ${dim}.`);
}

function checkLabels(headId: string, info: HeadInfo, labels: readonly string[]): void {
  const same = info.labels.length === labels.length && info.labels.every((l, i) => l === labels[i]);
  if (!same) {
    throw new HeadMismatchError(`Head '${headId}' classifies ${listValues(info.labels)}; the dataset's labels are ${listValues(labels)}.`);
  }
}

/** A copy of a trained layer that can be called anew (the original stays in the head model, which is disposed). */
function cloneLayer(headId: string, layer: tf.layers.Layer): tf.layers.Layer {
  const config = layer.getConfig();
  const name = layer.name.startsWith(HEAD_LAYER_PREFIX) ? layer.name : `${HEAD_LAYER_PREFIX}${layer.name}`;
  switch (layer.getClassName()) {
    case 'Dense':
      return tf.layers.dense({ units: config.units as number, activation: config.activation as 'relu', useBias: config.useBias as boolean, name });
    case 'Dropout':
      return tf.layers.dropout({ rate: config.rate as number, name });
    default:
      throw new HeadMismatchError(`Head '${headId}' has a ${layer.getClassName()} layer ('${layer.name}'); fine-tuning continues heads of Dense and Dropout layers.`);
  }
}

/**
 * A published head as the starting point (the two-stage recipe): its layers and trained weights, after
 * checking it was trained on this base's pooled features and on the dataset's labels.
 * @throws HeadNotFoundError, HeadMismatchError
 */
export async function headFromRegistry(
  store: ObjectStore,
  headId: string,
  expected: { spec: ModelSpec; featureDim: number; labels: readonly string[] },
): Promise<HeadLayers> {
  const { model, head } = await loadHead(store, headId);
  try {
    checkFeatures(headId, head, expected.spec, expected.featureDim);
    checkLabels(headId, head, expected.labels);
    const trained = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
    const layers = trained.map((l) => cloneLayer(headId, l));
    // Copies: the head model and its variables are disposed below.
    const weights = trained.map((l) => l.getWeights().map((w) => w.clone()));
    return { layers, weights, fromHead: headId };
  } finally {
    model.dispose();
  }
}
