/**
 * The model zoo: Keras Applications (VGG16, VGG19, ResNet50, InceptionV3, MobileNetV2, DenseNet121)
 * rebuilt as TF.js layers models with Keras' layer names, order, shapes and parameter counts.
 */
export {
  MODEL_IDS,
  type Interpolation,
  type ModelId,
  type ModelSpec,
  type Pooling,
  type PreprocessMode,
  type ZooOptions,
} from './types.js';
export { buildModel, getModelSpec, poolingLayerName, specForModel } from './registry.js';
export { CLASSIFIER_ACTIVATIONS, validateZooOptions, type ActivationName, type ResolvedZooOptions } from './validate.js';
export { featureExtractor, type FeatureCut } from './feature-extractor.js';
export { summary } from './summary.js';
export { countParams, type ParamCounts } from './params.js';
