import type { ClassWeights, HeadMetrics, ResolvedHeadSpec, TrainedHead } from '../types.js';

/**
 * `head: "auto"` (the default) or its object form: the head is chosen by stratified k-fold
 * cross-validation on the cached features — a linear softmax model across an L2 grid and small MLPs —
 * then refit on every row with the winner's settings and calibrated by temperature scaling.
 */
export interface AutoHeadSpec {
  type: 'auto';
  /** Folds of the stratified cross-validation (fewer when a label has fewer images). @default 5 */
  folds?: number;
  /** Seeds the folds, the MLPs' initialization, shuffles and dropout. @default 42 */
  seed?: number;
  /** 'balanced' = n_samples / (n_classes × count) per class, as scikit-learn; or a map label → weight. @default null */
  classWeights?: ClassWeights;
  /** The linear candidates' inverse L2 strengths (scikit-learn's C, on standardized features). @default [0.001, 0.01, 0.1, 1] */
  linearC?: number[];
  /**
   * Hidden widths of the one-hidden-layer MLP candidates; [] tries linear models only. @default [256]
   * (512 costs twice as much and lost to 256 and to the linear model on fashion-mnist: docs/benchmarks.md).
   */
  mlpUnits?: number[];
  /** Fit a temperature on the out-of-fold predictions and put it in the head. @default true */
  calibrate?: boolean;
}

export type ResolvedAutoHeadSpec = Required<AutoHeadSpec>;

export type CandidateConfig =
  | { kind: 'linear'; C: number }
  | { kind: 'mlp'; units: number; dropout: number; learningRate: number; maxEpochs: number; patience: number };

/** Mean and standard deviation over the folds. */
export interface FoldStat {
  mean: number;
  std: number;
}

/** One candidate's cross-validation, as metrics.json and the job record show it (scikit-learn's `scores_`). */
export interface CandidateScore {
  name: string;
  config: CandidateConfig;
  /** Out-of-fold log-loss (the selection criterion) and accuracy, per fold and summarized. */
  logLoss: FoldStat;
  accuracy: FoldStat;
  folds: { logLoss: number; accuracy: number; epochs?: number; iterations?: number }[];
  seconds: number;
}

/** How the head was chosen. */
export interface HeadSelection {
  folds: { used: number; requested: number; note?: string };
  candidates: CandidateScore[];
  chosen: string;
  /** Why the winner won, in words. */
  reason: string;
  /** The refit on every row: epochs (MLP: the folds' mean best epoch) or L-BFGS iterations (linear). */
  refit: { rows: number; epochs?: number; iterations?: number; seconds: number };
  seconds: number;
}

/** Temperature scaling fitted on the out-of-fold logits, and its effect on the expected calibration error (15 bins). */
export interface HeadCalibration {
  method: 'temperature' | 'none';
  temperature: number;
  ece: { before: number; after: number };
  bins: number;
}

/** One training image's out-of-fold prediction (its fold's model never saw it). */
export interface EvaluationSample {
  /** The image's key under images/. */
  key: string;
  label: string;
  predicted: string;
  /** Calibrated probability of `predicted`. */
  probability: number;
  /** Calibrated probabilities of every label, in `labels` order (for label-error detection). */
  probabilities: number[];
}

export interface HeadEvaluation {
  source: 'out-of-fold';
  samples: EvaluationSample[];
}

export interface Standardization {
  mean: Float32Array;
  std: Float32Array;
}

/** trainHead's result for `head: "auto"`: the refit model with the selection, calibration and out-of-fold evaluation. */
export interface AutoTrainedHead extends TrainedHead {
  auto: ResolvedAutoHeadSpec;
  selection: HeadSelection;
  calibration: HeadCalibration;
  standardization: Standardization;
  /** Out-of-fold metrics of the chosen configuration, calibrated (what `metrics` holds too). */
  metrics: HeadMetrics;
  evaluation: HeadEvaluation;
  /** The chosen configuration as an explicit spec (what `head: {...}` would train); linear heads ran L-BFGS. */
  config: ResolvedHeadSpec;
}

/** Where the search is: job progress shows it. */
export type SearchProgress =
  | { phase: 'cross-validation'; candidate: number; candidates: number; name: string; fold: number; folds: number }
  /** `epochs`: what an MLP's refit runs (the folds' mean best epoch); a linear refit has none. */
  | { phase: 'refit'; name: string; epochs?: number }
  | { phase: 'calibration'; name: string };
