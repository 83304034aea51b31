import type * as tf from '@tensorflow/tfjs';

/** The zoo's model ids (lower case, as on the CLI and in storage keys). */
export const MODEL_IDS = ['vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2', 'densenet121'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

/** Keras `imagenet_utils.preprocess_input` modes. */
export type PreprocessMode = 'caffe' | 'tf' | 'torch';
export type Pooling = 'avg' | 'max';
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

/**
 * Keras Applications builder arguments, camel-cased. Same defaults and the same validation rules
 * (e.g. `inputShape` other than the default only with `includeTop: false`).
 */
export interface ZooOptions {
  /** Whether to include the fully-connected classifier at the top. @default true */
  includeTop?: boolean;
  /**
   * `'imagenet'` (the official weights, loaded from the cache), `null` (random initialisation),
   * or a path to a weights file / TF.js folder. The synchronous builders accept only `null`;
   * `loadModel` resolves the others. @default null for builders
   */
  weights?: 'imagenet' | string | null;
  /** [height, width, channels]; only with includeTop false when it differs from the default. */
  inputShape?: [number | null, number | null, number];
  /** Global pooling after the last block when includeTop is false. */
  pooling?: Pooling | null;
  /** Number of output classes, only with includeTop true. @default 1000 */
  classes?: number;
  /** Activation of the top layer: 'softmax', 'linear' or null (logits), as Keras. @default 'softmax' */
  classifierActivation?: string | null;
}

/** What the zoo knows about one model besides its graph. */
export interface ModelSpec {
  id: ModelId;
  /** The Keras model name (`model.name`), e.g. 'vgg16', 'resnet50', 'inception_v3', 'mobilenetv2_1.00_224', 'densenet121'. */
  kerasName: string;
  /** Keras Applications function name, e.g. 'VGG16'. */
  displayName: string;
  /** Default square input size (224, or 299 for InceptionV3). */
  inputSize: number;
  preprocess: PreprocessMode;
  /** Total parameters with the top, as Keras reports. */
  paramsWithTop: number;
  /** The layer whose output is the default feature vector (DESIGN.md), and its width. */
  defaultFeatureLayer: string;
  defaultFeatureDim: number;
  /** Named layers useful as feature cuts, with their output width (after pooling where 4-D). */
  featureLayers: Record<string, number>;
  /** Smallest height/width Keras accepts for `inputShape` (32, or 75 for InceptionV3). */
  minInputSize?: number;
  /**
   * Square input sizes that official weights exist for (MobileNetV2: 96…224); a square `inputShape`
   * of one of these is that model's default size, as in Keras. Absent: only `inputSize`.
   */
  weightInputSizes?: readonly number[];
  /**
   * Build the TF.js layers model with random weights. Validates `options` as Keras does, including a
   * non-null `weights` (its rules and the model name depend on it), but never loads weights: that is
   * `loadModel` in src/weights. The caller owns the model (`model.dispose()`).
   */
  build(options?: ZooOptions): tf.LayersModel;
}
