import { classList, classWeightVector, checkTrainData, encodeLabels, type HeadSet } from '../dataset.js';
import { throwIfAborted, yieldAndCheck } from '../engines/abort.js';
import { argMaxRow, computeMetrics, PROBABILITY_EPSILON } from '../metrics.js';
import { buildHeadModel, writeDenseWeights } from '../model.js';
import { predictHead } from '../predict.js';
import { deriveSeed, mulberry32 } from '../random.js';
import { DEFAULT_HEAD_SPEC } from '../spec.js';
import { trainHead } from '../train.js';
import type { EpochLog, ResolvedHeadSpec, TrainData, TrainedHead } from '../types.js';
import { expectedCalibrationError, fitTemperature, softmaxRows } from './calibration.js';
import { foldRows, stratifiedFolds, type FoldPlan } from './folds.js';
import { fitLinear, linearLogits, type LinearFit } from './linear.js';
import { resolveAutoSpec } from './spec.js';
import { fitStandardization, foldStandardization, foldTemperature, standardizeRows, type Standardization } from './standardize.js';
import type {
  AutoHeadSpec,
  AutoTrainedHead,
  CandidateConfig,
  CandidateScore,
  EvaluationSample,
  HeadCalibration,
  ResolvedAutoHeadSpec,
  SearchProgress,
} from './types.js';

/** Seed streams of an auto head (train.ts uses 0–2 of the same derivation for explicit specs). */
const FOLD_STREAM = 10;

/**
 * L-BFGS iterations of a linear fit inside the cross-validation. Measured on fashion-mnist-small
 * (DenseNet121 features, 5 folds × 5 Cs): 40 iterations give the same out-of-fold log-loss as 100
 * (0.4758 vs 0.4756 at the chosen C, same choice) in 40% of the time. The refit runs to scikit-learn's
 * max_iter (100) or convergence.
 */
const CV_ITERATIONS = 40;

/**
 * The MLP candidates' settings besides their width: the Keras transfer recipe (Dense → Dropout →
 * softmax, Adam 1e-3) on standardized features, batch 128 (engines/tfjs: 64 costs ~1.7× per epoch), and
 * early stopping on the held-out fold with patience 2 (their best epoch is 3–7 on 800 rows).
 */
const MLP = { dropout: 0.2, learningRate: 1e-3, maxEpochs: 30, patience: 2, batchSize: 128 } as const;

export interface AutoTrainOptions {
  /** Awaited as the search moves (candidate i of n, fold j of k), then at the refit and the calibration. */
  onProgress?: (progress: SearchProgress) => void | Promise<void>;
  /** Awaited after every epoch of the MLP refit (the linear refit has no epochs). */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Checked between fits and batches; aborting throws TrainingAbortedError. */
  signal?: AbortSignal;
}

interface Candidate {
  name: string;
  config: CandidateConfig;
  /** Out-of-fold logits [rows, classes]: each row from the fold that held it out. */
  oof: Float32Array;
  folds: CandidateScore['folds'];
  seconds: number;
  /** The last fold's fit (a warm start for the linear refit). */
  lastFit?: LinearFit;
}

function candidatesOf(spec: ResolvedAutoHeadSpec, rows: number, classes: number): Candidate[] {
  const oof = () => new Float32Array(rows * classes);
  return [
    ...spec.linearC.map((C): Candidate => ({ name: `linear C=${C}`, config: { kind: 'linear', C }, oof: oof(), folds: [], seconds: 0 })),
    ...spec.mlpUnits.map(
      (units): Candidate => ({ name: `mlp ${units}`, config: { kind: 'mlp', units, dropout: MLP.dropout, learningRate: MLP.learningRate, maxEpochs: MLP.maxEpochs, patience: MLP.patience }, oof: oof(), folds: [], seconds: 0 }),
    ),
  ];
}

/** Mean log-loss and accuracy of logits for the given rows' true classes. */
function scoreLogits(logits: Float32Array, truth: Int32Array, classes: number): { logLoss: number; accuracy: number } {
  const probs = softmaxRows(logits, classes);
  let loss = 0;
  let correct = 0;
  for (let row = 0; row < truth.length; row++) {
    loss -= Math.log(Math.max(PROBABILITY_EPSILON, probs[row * classes + truth[row]!]!));
    if (argMaxRow(probs, row, classes) === truth[row]) correct++;
  }
  return { logLoss: loss / truth.length, accuracy: correct / truth.length };
}

/** Writes a fold's held-out logits into the candidate's out-of-fold matrix. */
function scatterRows(into: Float32Array, from: Float32Array, rows: Int32Array, classes: number): void {
  rows.forEach((row, i) => into.set(from.subarray(i * classes, (i + 1) * classes), row * classes));
}

const asTrainData = (set: HeadSet, labels: readonly string[]): TrainData => ({
  features: set.features,
  dim: set.dim,
  labels: Array.from(set.labelIndex, (c) => labels[c]!),
});

function mlpSpec(config: Extract<CandidateConfig, { kind: 'mlp' }>, spec: ResolvedAutoHeadSpec, epochs = config.maxEpochs, patience = config.patience): ResolvedHeadSpec {
  return {
    ...DEFAULT_HEAD_SPEC,
    hidden: [config.units],
    dropout: config.dropout,
    learningRate: config.learningRate,
    epochs,
    patience,
    batchSize: MLP.batchSize,
    validationSplit: 0,
    seed: spec.seed,
    classWeights: spec.classWeights,
  };
}

/** The explicit spec equivalent to a linear candidate: Keras' l2 on Σw² with a mean loss is 1 / (2·C·n). */
function linearSpec(C: number, rows: number, spec: ResolvedAutoHeadSpec): ResolvedHeadSpec {
  return { ...DEFAULT_HEAD_SPEC, hidden: [], dropout: 0, l2: 1 / (2 * C * rows), validationSplit: 0, seed: spec.seed, classWeights: spec.classWeights };
}

const stat = (values: number[]) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
};

/** Runs every candidate on every fold (standardized with the fold's training rows only), filling their out-of-fold logits. */
async function crossValidate(all: HeadSet, labels: string[], plan: FoldPlan, candidates: Candidate[], spec: ResolvedAutoHeadSpec, options: AutoTrainOptions) {
  const classes = labels.length;
  for (let fold = 0; fold < plan.folds; fold++) {
    const { train, heldOut } = foldRows(plan, fold);
    const stats = fitStandardization(all, train);
    const trainSet = standardizeRows(all, stats, train);
    const heldSet = standardizeRows(all, stats, heldOut);
    const classWeights = classWeightVector(spec.classWeights, labels, trainSet);
    // Linear candidates in ascending C, each warm-started from the previous (scikit-learn's regularization path).
    let init: LinearFit | undefined;
    for (const [index, candidate] of candidates.entries()) {
      await options.onProgress?.({ phase: 'cross-validation', candidate: index + 1, candidates: candidates.length, name: candidate.name, fold: fold + 1, folds: plan.folds });
      await yieldAndCheck(options.signal);
      throwIfAborted(options.signal);
      const started = performance.now();
      let logits: Float32Array;
      let extra: { epochs?: number; iterations?: number };
      if (candidate.config.kind === 'linear') {
        const fit = fitLinear(trainSet, classes, { C: candidate.config.C, classWeights, init, maxIterations: CV_ITERATIONS });
        init = candidate.lastFit = fit;
        logits = linearLogits(fit, heldSet.features, heldSet.rows, heldSet.dim);
        extra = { iterations: fit.iterations };
      } else {
        const trained = await trainHead(asTrainData(trainSet, labels), mlpSpec(candidate.config, spec), {
          validation: asTrainData(heldSet, labels),
          signal: options.signal,
        });
        try {
          const probs = predictHead(trained.model, heldSet.features, heldSet.dim);
          logits = probs.map((p) => Math.log(Math.max(p, 1e-30)));
        } finally {
          trained.model.dispose();
        }
        extra = { epochs: trained.bestEpoch };
      }
      scatterRows(candidate.oof, logits, heldOut, classes);
      candidate.folds.push({ ...scoreLogits(logits, heldSet.labelIndex, classes), ...extra });
      candidate.seconds += (performance.now() - started) / 1000;
    }
  }
}

/** Lowest mean out-of-fold log-loss; a tie (within 1e-6) goes to the higher mean accuracy, then to the earlier (simpler) candidate. */
function choose(scores: CandidateScore[]): { chosen: CandidateScore; reason: string } {
  const ranked = [...scores].sort((a, b) => (Math.abs(a.logLoss.mean - b.logLoss.mean) > 1e-6 ? a.logLoss.mean - b.logLoss.mean : b.accuracy.mean - a.accuracy.mean));
  const [chosen, runnerUp] = ranked as [CandidateScore, CandidateScore | undefined];
  const fmt = (s: CandidateScore) => `${s.logLoss.mean.toFixed(4)} ± ${s.logLoss.std.toFixed(4)}`;
  const reason = runnerUp
    ? `lowest mean out-of-fold log-loss: ${fmt(chosen)} (accuracy ${chosen.accuracy.mean.toFixed(4)}), next ${runnerUp.name} at ${fmt(runnerUp)}` +
      (Math.abs(chosen.logLoss.mean - runnerUp.logLoss.mean) <= 1e-6 ? ' (a tie on log-loss, broken by accuracy)' : '')
    : `the only candidate: ${fmt(chosen)}`;
  return { chosen, reason };
}

/** Refits the chosen configuration on every (standardized) row; the model is the caller's. */
async function refit(full: HeadSet, labels: string[], candidate: Candidate, spec: ResolvedAutoHeadSpec, options: AutoTrainOptions) {
  const classes = labels.length;
  if (candidate.config.kind === 'linear') {
    const classWeights = classWeightVector(spec.classWeights, labels, full);
    await options.onProgress?.({ phase: 'refit', name: candidate.name });
    const fit = fitLinear(full, classes, { C: candidate.config.C, classWeights, init: candidate.lastFit });
    const model = buildHeadModel(full.dim, classes, { hidden: [], activation: 'linear', dropout: 0, seed: spec.seed, l2: 0 });
    writeDenseWeights(model, [{ kernel: fit.kernel, bias: fit.bias, inputs: full.dim, units: classes }]);
    return { model, history: [] as EpochLog[], bestEpoch: 0, iterations: fit.iterations, config: linearSpec(candidate.config.C, full.rows, spec) };
  }
  const epochs = Math.max(1, Math.round(candidate.folds.reduce((a, f) => a + (f.epochs ?? 1), 0) / candidate.folds.length));
  // Nothing held back: the folds chose the epoch count, the refit runs exactly that many.
  const config = mlpSpec(candidate.config, spec, epochs, epochs);
  await options.onProgress?.({ phase: 'refit', name: candidate.name, epochs });
  const trained: TrainedHead = await trainHead(asTrainData(full, labels), config, { signal: options.signal, onEpoch: options.onEpoch });
  return { model: trained.model, history: trained.history, bestEpoch: trained.bestEpoch, epochs, config: trained.config };
}

function calibrate(oof: Float32Array, truth: Int32Array, classes: number, enabled: boolean): { calibration: HeadCalibration; probs: Float32Array } {
  const bins = 15;
  const before = softmaxRows(oof, classes);
  const eceBefore = expectedCalibrationError(before, truth, classes, bins);
  if (!enabled) return { calibration: { method: 'none', temperature: 1, ece: { before: eceBefore, after: eceBefore }, bins }, probs: before };
  const temperature = fitTemperature(oof, truth, classes);
  const probs = softmaxRows(oof, classes, temperature);
  return { calibration: { method: 'temperature', temperature, ece: { before: eceBefore, after: expectedCalibrationError(probs, truth, classes, bins) }, bins }, probs };
}

function samplesOf(probs: Float32Array, truth: Int32Array, labels: string[], keys: readonly string[] | undefined): EvaluationSample[] {
  const classes = labels.length;
  return Array.from(truth, (t, row) => {
    const predicted = argMaxRow(probs, row, classes);
    const round = (p: number) => Math.round(p * 1e6) / 1e6;
    return {
      key: keys?.[row] ?? `row-${row}`,
      label: labels[t]!,
      predicted: labels[predicted]!,
      probability: round(probs[row * classes + predicted]!),
      probabilities: Array.from(probs.subarray(row * classes, (row + 1) * classes), round),
    };
  });
}

/**
 * `head: "auto"`: chooses the head by stratified k-fold cross-validation (seeded) over linear softmax
 * models across an L2 grid (full-batch L-BFGS, warm-started along the path) and one-hidden-layer MLPs
 * (the engines' epoch loop, early stopping on the held-out fold), every fold standardized with its own
 * training rows; picks the lowest mean out-of-fold log-loss (accuracy breaks ties); refits it on every
 * row (nothing held back); fits a temperature on the winner's out-of-fold logits. Standardization and
 * temperature are folded into the returned model's first and last Dense layers, so it takes raw
 * features and returns calibrated probabilities. Metrics, the confusion matrix and the per-image
 * evaluation are the winner's out-of-fold predictions, calibrated: every training row has one.
 * The model belongs to the caller; nothing else outlives the call, also on errors and aborts.
 */
export async function trainAutoHead(data: TrainData, autoSpec: 'auto' | AutoHeadSpec = 'auto', options: AutoTrainOptions = {}): Promise<AutoTrainedHead> {
  const spec = resolveAutoSpec(autoSpec);
  const started = performance.now();
  throwIfAborted(options.signal);
  const rows = checkTrainData(data, 'training data');
  const labels = classList(data.labels);
  const all: HeadSet = { features: data.features, dim: data.dim, rows, labelIndex: encodeLabels(data.labels, labels, 'training data') };
  const plan = stratifiedFolds(all.labelIndex, labels, spec.folds, mulberry32(deriveSeed(spec.seed, FOLD_STREAM)));
  const candidates = candidatesOf(spec, rows, labels.length);
  await crossValidate(all, labels, plan, candidates, spec, options);
  const scores: CandidateScore[] = candidates.map((c) => ({
    name: c.name,
    config: c.config,
    logLoss: stat(c.folds.map((f) => f.logLoss)),
    accuracy: stat(c.folds.map((f) => f.accuracy)),
    folds: c.folds,
    seconds: c.seconds,
  }));
  const { chosen: winner, reason } = choose(scores);
  const candidate = candidates.find((c) => c.name === winner.name)!;

  const refitStarted = performance.now();
  const standardization: Standardization = fitStandardization(all);
  const refitted = await refit(standardizeRows(all, standardization), labels, candidate, spec, options);
  try {
    const refitSeconds = (performance.now() - refitStarted) / 1000;
    await options.onProgress?.({ phase: 'calibration', name: candidate.name });
    const { calibration, probs } = calibrate(candidate.oof, all.labelIndex, labels.length, spec.calibrate);
    foldStandardization(refitted.model, standardization);
    if (calibration.temperature !== 1) foldTemperature(refitted.model, calibration.temperature);
    return {
      model: refitted.model,
      labels,
      history: refitted.history,
      bestEpoch: refitted.bestEpoch,
      metrics: computeMetrics(probs, all.labelIndex, labels),
      config: refitted.config,
      auto: spec,
      selection: {
        folds: { used: plan.folds, requested: plan.requested, ...(plan.note ? { note: plan.note } : {}) },
        candidates: scores,
        chosen: candidate.name,
        reason,
        refit: { rows, ...('iterations' in refitted ? { iterations: refitted.iterations } : { epochs: refitted.epochs }), seconds: refitSeconds },
        seconds: (performance.now() - started) / 1000,
      },
      calibration,
      standardization,
      evaluation: { source: 'out-of-fold', samples: samplesOf(probs, all.labelIndex, labels, data.keys) },
    };
  } catch (error) {
    refitted.model.dispose();
    throw error;
  }
}
