import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, listValues } from '../errors.js';
import type { PoolingNames } from './layers.js';
import { DENSENET_POOLING_NAMES, denseNet121Spec } from './models/densenet121.js';
import { INCEPTION_POOLING_NAMES, inceptionV3Spec } from './models/inception-v3.js';
import { MOBILENET_POOLING_NAMES, mobileNetV2Spec } from './models/mobilenet-v2.js';
import { RESNET_POOLING_NAMES, resnet50Spec } from './models/resnet50.js';
import { VGG_POOLING_NAMES, vgg16Spec, vgg19Spec } from './models/vgg.js';
import { MODEL_IDS, type ModelId, type ModelSpec, type ZooOptions } from './types.js';

const SPECS: Record<ModelId, ModelSpec> = {
  vgg16: vgg16Spec,
  vgg19: vgg19Spec,
  resnet50: resnet50Spec,
  inception_v3: inceptionV3Spec,
  mobilenet_v2: mobileNetV2Spec,
  densenet121: denseNet121Spec,
};

/** How each model names its no-top global pooling layer (Keras' names, see each model file). */
const POOLING_NAMES: Record<ModelId, PoolingNames> = {
  vgg16: VGG_POOLING_NAMES,
  vgg19: VGG_POOLING_NAMES,
  resnet50: RESNET_POOLING_NAMES,
  inception_v3: INCEPTION_POOLING_NAMES,
  mobilenet_v2: MOBILENET_POOLING_NAMES,
  densenet121: DENSENET_POOLING_NAMES,
};

function isModelId(id: string): id is ModelId {
  return (MODEL_IDS as readonly string[]).includes(id);
}

/** The zoo's description of a model. Unknown id: InvalidArgumentError listing the valid ids. */
export function getModelSpec(id: string): ModelSpec {
  if (!isModelId(id)) throw new InvalidArgumentError(`Unknown model '${id}': expected ${listValues(MODEL_IDS)}.`);
  return SPECS[id];
}

/**
 * Builds a zoo model with random weights, as the Keras Applications function with `weights=None`.
 * Pretrained weights ('imagenet' or a file) are `loadModel`'s job (src/weights): asking for them here
 * is an InvalidArgumentError. The caller owns the model and its weights (`model.dispose()`).
 * Call `initBackend()` first so the weights are created on the chosen backend.
 */
export function buildModel(id: ModelId | string, options: ZooOptions = {}): tf.LayersModel {
  const spec = getModelSpec(id);
  if (options?.weights !== undefined && options.weights !== null) {
    throw new InvalidArgumentError(
      `buildModel builds random weights only, so \`weights\` must be null; Received: weights=${String(options.weights)}. ` +
        `To load 'imagenet' or a weights file, use loadModel from src/weights.`,
    );
  }
  return spec.build(options);
}

/**
 * The zoo model a built model came from, by its Keras name (`vgg16`, `mobilenetv2_1.00_160`, …);
 * undefined for anything else.
 */
export function specForModel(model: tf.LayersModel): ModelSpec | undefined {
  const name = model.name;
  if (name.startsWith('mobilenetv2_')) return mobileNetV2Spec;
  return Object.values(SPECS).find((spec) => spec.kerasName === name);
}

/** The name Keras gives the no-top global pooling layer of `spec`'s model. */
export function poolingLayerName(spec: ModelSpec, pooling: 'avg' | 'max'): string {
  return POOLING_NAMES[spec.id][pooling];
}
