import type { tf } from '../engine/backend.js';
import type { FeatureNamespace } from '../features/namespace.js';
import type { HeadCalibration, HeadEvaluation, HeadSelection, ResolvedAutoHeadSpec } from '../heads/auto/types.js';
import type { EpochLog, HeadMetrics, ResolvedHeadSpec } from '../heads/types.js';
import type { HEADS } from './kinds.js';
import type { PublishedPointer as Pointer } from './pointer.js';

/** The base network a head's input features came from: a feature namespace and its storage id. */
export interface HeadBase extends FeatureNamespace {
  /** `<model>@<weights-digest>/<layer>`, the features/ path segment. */
  namespace: string;
}

/** Where the metrics were measured. */
/** Where the metrics were measured; 'out-of-fold': an auto head's cross-validation, one prediction per training image. */
export type EvaluatedOn = 'validation-split' | 'validation-dataset' | 'training' | 'out-of-fold';

/** `head.json`: everything needed to use a head and to know where it came from. */
export interface HeadInfo {
  format: 'headstart-head';
  formatVersion: 1;
  headId: string;
  dataset: string;
  validationDataset: string | null;
  /** Class names in output order (sorted, as Keras orders class folders). */
  labels: string[];
  inputDim: number;
  base: HeadBase;
  training: {
    spec: ResolvedHeadSpec;
    /** Epochs that ran; early stopping usually ends before spec.epochs. */
    epochs: number;
    /** 1-based epoch whose weights the head holds. */
    bestEpoch: number;
    rows: { train: number; validation: number };
    backend: string;
    durationMs: number;
    /** An auto head: the search it ran (the winner's settings are `spec`). */
    auto?: ResolvedAutoHeadSpec & { chosen: string };
    /**
     * An auto head's standardization (StandardScaler on the training rows), already folded into the first
     * Dense layer: the model takes raw features. Kept here so a reader can undo or check it.
     */
    standardization?: { mean: number[]; std: number[]; foldedInto: string };
    /** An auto head's temperature, already folded into the predictions layer: the model's outputs are calibrated. */
    calibration?: HeadCalibration & { foldedInto: string };
  };
  library: string;
  createdAt: string;
  jobId: string | null;
  files: typeof HEADS.files;
}

/** `metrics.json`: the evaluation of the head's best epoch, and the training history. */
export interface HeadMetricsFile extends HeadMetrics {
  evaluatedOn: EvaluatedOn;
  /** Rows the metrics were computed on. */
  rows: number;
  bestEpoch: number;
  history: EpochLog[];
  /** An auto head: every candidate's cross-validation (mean ± std per fold), the winner and why. */
  selection?: HeadSelection;
  /** An auto head: the temperature and the expected calibration error of the out-of-fold predictions before and after it. */
  calibration?: HeadCalibration;
  /**
   * Per-image results of the evaluation the metrics above come from: an auto head's out-of-fold
   * predictions (calibrated), one per training image; the confusion matrix counts exactly these.
   */
  evaluation?: HeadEvaluation;
  /** With a validation dataset beside an auto head: the refit head on those images. */
  validation?: HeadMetrics & { dataset: string; rows: number };
}

/** What `GET /models` shows per head, kept in the pointer so a listing reads one small object per head. */
export interface HeadSummary {
  headId: string;
  dataset: string;
  labels: string[];
  model: string;
  namespace: string;
  accuracy: number;
  createdAt: string;
  jobId: string | null;
}

/** A head's `_published.json`, written last. The file digests let a reader notice damaged or swapped files. */
export type PublishedPointer = Pointer<HeadSummary>;

/** `GET /models/{id}`: the head's metadata with its metrics. */
export interface HeadDetails extends HeadInfo {
  publishedAt: string;
  metrics: HeadMetricsFile;
}

/** A head ready to classify with. The model belongs to whoever loaded it (or to the HeadCache that did). */
export interface LoadedHead {
  model: tf.LayersModel;
  head: HeadInfo;
}
