/**
 * trainHead: a classifier head trained on cached feature vectors.
 *
 * Engines and why 'auto' picks what it picks — the issue's benchmark (bench/heads.ts): 5,000 training
 * vectors of 2048-d (+1,000 validation), head 2048 → 256 → 10, 10 epochs, AMD EPYC, 2 cores, Node 20,
 * TF.js 4.22. The machine was shared (load average 10–16 on 2 cores), so wall seconds ran ~2.5× slow
 * for everyone; CPU seconds (this process only) compare options fairly. * = 1 epoch measured, × 10.
 *
 *   option                                        backend  batch  wall s   CPU s  val acc
 *   model.fit (engine 'fit')                      wasm      256   728.1*   125.7   (0.84 after 1 epoch)
 *   autograd loop: optimizer.minimize, tf.tidy,   wasm      256   908.5*   114.6   (0.85 after 1 epoch)
 *     batches pre-built as tensors
 *   manual-backprop loop, data as one tensor,     wasm      256    49.3*    17.7   (0.83 after 1 epoch)
 *     batches by tf.gather
 *   manual-backprop loop (engine 'tfjs')          wasm       64    56.4     18.2   0.960
 *   manual-backprop loop (engine 'tfjs')          wasm      256    27.8     10.8   0.957
 *   manual-backprop loop (engine 'tfjs')          wasm      512    30.0      9.6   0.958
 *   pure-JS Float32Array MLP (engine 'js')        any       256   213.3*    83.7   (0.83 after 1 epoch)
 *   model.fit                                     cpu       256  1055.4*   377.5
 *   manual-backprop loop                          cpu       256   857.3*   342.5
 *
 * Alone at load ≈9, the default ('tfjs', batch 256) took 12.0 s wall, 10.6 s CPU, val acc 0.957.
 *
 * What decides it: two products carry all the work, x·W1 forward and x^T·δ for W1's gradient (10.5
 * GFLOP per epoch here). The wasm backend (XNNPACK, SIMD, one thread in Node) runs a plain matMul at
 * ~18 GFLOP/s idle but matMul(a, b, transposeA=true) — how TF.js autograd, and so model.fit, computes
 * x^T·δ — at 0.5 GFLOP/s. fit's per-batch overhead is not the problem: the autograd loop is as slow.
 * Writing the backward pass out with an explicit tf.transpose makes every large product a fast one:
 * 11.6× less CPU than model.fit, i.e. ≈5 s for the issue's 58 s on an idle machine. tf.gather from one
 * data tensor loses to copying batch rows on the host (wasm Gather ≈36 ms per 256 rows). Batch 256–512
 * is the sweet spot (64 costs 1.7×). The pure-JS trainer (4×4 register-tiled kernels, ~3.6 GFLOP/s
 * idle) cannot reach XNNPACK, but beats the TF.js cpu backend 4×: 'auto' = 'js' on cpu, 'tfjs' elsewhere.
 * Re-measure: `node bin/run-ts.js bench/heads.ts` (`--full` runs the * rows all the way).
 */
import { classList, classWeightVector, checkTrainData, encodeLabels, stratifiedSplit, subset, toHeadSet, type HeadSet } from './dataset.js';
import { TrainingDivergedError } from './errors.js';
import { TRAINERS, resolveEngine, type HeadTrainer, type TrainerFactory } from './engines/index.js';
import { throwIfAborted } from './engines/abort.js';
import { computeMetrics } from './metrics.js';
import { buildHeadModel } from './model.js';
import { predictHead } from './predict.js';
import { deriveSeed, mulberry32, shuffleInPlace } from './random.js';
import { resolveHeadSpec } from './spec.js';
import type { EpochLog, HeadEngineName, HeadSpec, ResolvedHeadSpec, TrainData, TrainOptions, TrainedHead } from './types.js';

/** Seed streams derived from spec.seed. */
const SPLIT_STREAM = 0;
const SHUFFLE_STREAM = 1;
const DROPOUT_STREAM = 2;

/** The class list, and training and validation sets: given validation data wins over the split, as in Keras. */
function prepareSets(data: TrainData, spec: ResolvedHeadSpec, validation?: TrainData): { labels: string[]; train: HeadSet; validation?: HeadSet } {
  const rows = checkTrainData(data, 'training data');
  const labels = classList(data.labels);
  const all: HeadSet = { features: data.features, dim: data.dim, rows, labelIndex: encodeLabels(data.labels, labels, 'training data') };
  if (validation) return { labels, train: all, validation: toHeadSet(validation, labels, 'validation data', data.dim) };
  if (spec.validationSplit === 0) return { labels, train: all };
  const split = stratifiedSplit(all, labels, spec.validationSplit, mulberry32(deriveSeed(spec.seed, SPLIT_STREAM)));
  return { labels, train: subset(all, split.train), validation: subset(all, split.validation) };
}

/** The epoch loop: shuffle, train, validate, early stopping on validation loss (training loss without validation). */
async function runEpochs(trainer: HeadTrainer, train: HeadSet, validation: HeadSet | undefined, spec: ResolvedHeadSpec, options: TrainOptions) {
  const random = mulberry32(deriveSeed(spec.seed, SHUFFLE_STREAM));
  const order = Int32Array.from({ length: train.rows }, (_, i) => i);
  const history: EpochLog[] = [];
  const started = performance.now();
  let best = Infinity;
  let bestEpoch = 0;
  let wait = 0;
  for (let epoch = 1; epoch <= spec.epochs; epoch++) {
    const stats = await trainer.trainEpoch(shuffleInPlace(order, random), options.signal);
    if (!Number.isFinite(stats.loss)) {
      throw new TrainingDivergedError(
        `Training loss became ${stats.loss} in epoch ${epoch}: lower learningRate (now ${spec.learningRate}) or check the features' scale.`,
      );
    }
    const val = validation ? trainer.evaluate(validation) : undefined;
    const monitored = val ? val.loss : stats.loss;
    // Keras EarlyStopping: reset the wait on improvement, else stop once it reaches patience.
    if (monitored < best) {
      [best, bestEpoch, wait] = [monitored, epoch, 0];
      trainer.snapshot();
    } else {
      wait++;
    }
    const elapsedMs = performance.now() - started;
    const log: EpochLog = { epoch, loss: stats.loss, accuracy: stats.accuracy, elapsedMs, etaMs: (elapsedMs / epoch) * (spec.epochs - epoch) };
    if (val) Object.assign(log, { valLoss: val.loss, valAccuracy: val.accuracy });
    history.push(log);
    await options.onEpoch?.(log);
    throwIfAborted(options.signal);
    if (wait > 0 && wait >= spec.patience) break;
  }
  if (bestEpoch !== history.length) trainer.restoreSnapshot();
  return { history, bestEpoch };
}

/**
 * Trains a head on cached features: Input[dim] → (Dense → Dropout)* → Dense(softmax), categorical
 * cross-entropy, Adam, stratified seeded validation split, early stopping with the best epoch's weights
 * restored. Same data + spec → same split, init, shuffles and (tfjs/js engines) the same history.
 * The returned model belongs to the caller; nothing else outlives the call, also on errors and aborts.
 */
export function trainHead(data: TrainData, spec: HeadSpec = {}, options: TrainOptions = {}): Promise<TrainedHead> {
  return trainHeadWith(data, spec, options);
}

/** trainHead with a trainer factory of the caller's (the benchmark's variants); `spec.engine` is then only recorded. */
export async function trainHeadWith(data: TrainData, spec: HeadSpec, options: TrainOptions, factory?: TrainerFactory): Promise<TrainedHead> {
  const resolved = resolveHeadSpec(spec);
  throwIfAborted(options.signal);
  const { labels, train, validation } = prepareSets(data, resolved, options.validation);
  const config: ResolvedHeadSpec = { ...resolved, engine: resolveEngine(resolved.engine) };
  const classWeights = classWeightVector(config.classWeights, labels, train);
  const model = buildHeadModel(data.dim, labels.length, config);
  let trainer: HeadTrainer | undefined;
  try {
    trainer = (factory ?? TRAINERS[config.engine as HeadEngineName])({
      model,
      spec: config,
      train,
      numClasses: labels.length,
      classWeights,
      dropoutSeed: deriveSeed(config.seed, DROPOUT_STREAM),
    });
    const { history, bestEpoch } = await runEpochs(trainer, train, validation, config, options);
    trainer.dispose();
    const evaluated = validation ?? train;
    const metrics = computeMetrics(predictHead(model, evaluated.features, evaluated.dim), evaluated.labelIndex, labels);
    return { model, labels, history, bestEpoch, metrics, config };
  } catch (error) {
    trainer?.dispose();
    model.dispose();
    throw error;
  }
}
