import type { tf } from '../engine/backend.js';

/** Hidden-layer activations: the TF.js ones whose derivative every engine implements. */
export const HEAD_ACTIVATIONS = ['relu', 'relu6', 'elu', 'selu', 'gelu', 'swish', 'tanh', 'sigmoid', 'softplus', 'linear'] as const;
export type HeadActivation = (typeof HEAD_ACTIVATIONS)[number];

/**
 * Training engines. All three train the same TF.js layers model and return it:
 * - `tfjs`: a hand-written loop on TF.js ops (manual backprop, Adam from TF.js). Fastest on wasm / tfjs-node.
 * - `js`: a pure Float32Array trainer, weights loaded into the model at the end. Fastest on the cpu backend.
 * - `fit`: Keras-style `model.fit`, the reference the other two are tested against (slow on wasm).
 * - `auto`: `js` on the cpu backend, `tfjs` elsewhere (see the measurements in train.ts).
 */
export const HEAD_ENGINES = ['auto', 'tfjs', 'js', 'fit'] as const;
export type HeadEngineChoice = (typeof HEAD_ENGINES)[number];
export type HeadEngineName = Exclude<HeadEngineChoice, 'auto'>;

export type ClassWeights = 'balanced' | Record<string, number> | null;

/** How to build and train a head. Every field is optional; `resolveHeadSpec` fills the defaults. */
export interface HeadSpec {
  /** Units of each hidden Dense layer, input side first; `[]` is softmax regression. @default [256] */
  hidden?: number[];
  /** Activation of the hidden layers. @default 'relu' */
  activation?: HeadActivation;
  /** Dropout rate after each hidden layer, 0 ≤ d < 1 (no Dropout layer when 0). @default 0.2 */
  dropout?: number;
  /** Adam learning rate. @default 1e-3 */
  learningRate?: number;
  /** Maximum epochs; early stopping usually ends sooner. @default 30 */
  epochs?: number;
  /** Rows per gradient step. @default 64 */
  batchSize?: number;
  /** Fraction of each label held out for validation (stratified, seeded); ignored when validation data is given. @default 0.2 */
  validationSplit?: number;
  /** Seeds the split, the shuffles, the initializers and the dropout masks. @default 42 */
  seed?: number;
  /** Epochs without a better validation loss before stopping; the best epoch's weights are restored. @default 5 */
  patience?: number;
  /** Per-class loss weights: 'balanced' = n_samples / (n_classes × count), as sklearn/Keras; a map label → weight (missing labels weigh 1). @default null */
  classWeights?: ClassWeights;
  /** L2 penalty on the Dense kernels (Keras `regularizers.l2`: loss += l2 × Σw²). @default 0 */
  l2?: number;
  /** Training engine. @default 'auto' */
  engine?: HeadEngineChoice;
}

/** A resolved spec: every field set, `engine` the one that actually ran. */
export type ResolvedHeadSpec = Required<HeadSpec>;

/** Row-major feature vectors [rows, dim] with one label per row. */
export interface TrainData {
  features: Float32Array;
  dim: number;
  labels: string[];
  /** Optional row identifiers (e.g. image keys), used in error messages. */
  keys?: string[];
}

/** One epoch's progress. `epoch` is 1-based (as Keras prints it). Validation fields are absent without validation data. */
export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Since training started. */
  elapsedMs: number;
  /** Estimate for the remaining epochs if none stops early. */
  etaMs: number;
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface HeadMetrics {
  accuracy: number;
  /** Mean categorical cross-entropy (unweighted, no regularization: Keras' val_loss). */
  loss: number;
  perClass: Record<string, ClassMetrics>;
  /** Rows = true label, columns = predicted label, both in `labels` order. */
  confusionMatrix: number[][];
  labels: string[];
}

export interface TrainOptions {
  /** Held-out data; replaces `validationSplit` (Keras' validation_data). */
  validation?: TrainData;
  /** Awaited after every epoch (progress reports, job status). */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Checked between batches; aborting throws TrainingAbortedError. */
  signal?: AbortSignal;
}

export interface TrainedHead {
  /** The trained head, best epoch's weights. The caller owns it: call `model.dispose()`. */
  model: tf.LayersModel;
  /** Sorted class names: the order of the model's outputs. */
  labels: string[];
  history: EpochLog[];
  /** 1-based epoch whose weights the model holds: `history[bestEpoch - 1]`. */
  bestEpoch: number;
  /** On the validation data (the training data when there is none). */
  metrics: HeadMetrics;
  config: ResolvedHeadSpec;
}
