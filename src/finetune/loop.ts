import { tf } from '../engine/backend.js';
import { throwIfAborted, yieldAndCheck } from '../heads/engines/abort.js';
import { TrainingDivergedError } from '../heads/errors.js';
import { lossAndAccuracy } from '../heads/metrics.js';
import { deriveSeed, mulberry32, shuffleInPlace, type Random } from '../heads/random.js';
import type { EpochLog } from '../heads/types.js';
import type { ActivationSource } from './activations.js';
import type { ImageSet } from './data.js';
import type { FinetuneNetwork } from './network.js';
import type { FinetuneTrainer } from './trainer.js';
import type { ResolvedFinetuneRequest } from './types.js';

/** Where training stands after an epoch: what a checkpoint keeps and a resumed job starts from. */
export interface LoopState {
  /** Epochs completed. */
  epoch: number;
  history: EpochLog[];
  /** 1-based epoch of the best monitored loss so far (0 before the first). */
  bestEpoch: number;
  bestLoss: number | null;
  /** Epochs since the best one. */
  wait: number;
  /** Early stopping ended the run. */
  stopped: boolean;
  /** Training time so far, over every run of the job. */
  elapsedMs: number;
}

export const INITIAL_LOOP_STATE: Readonly<LoopState> = Object.freeze({ epoch: 0, history: [], bestEpoch: 0, bestLoss: null, wait: 0, stopped: false, elapsedMs: 0 });

export interface LoopOptions {
  request: ResolvedFinetuneRequest;
  train: ImageSet;
  validation?: ImageSet;
  signal?: AbortSignal;
  /** Awaited after each epoch, before the abort check: checkpoint, progress record, the caller's hook. */
  onEpochEnd: (state: LoopState, log: EpochLog) => Promise<void>;
  /** Awaited after each training batch with the batches done and the epoch's total (progress within long epochs). */
  onBatch?: (batch: number, batches: number) => Promise<void>;
}

/**
 * Per-epoch seed streams. Derived from (seed, epoch) rather than carried along, so a job resumed at
 * epoch e draws exactly the shuffles, dropout masks and augmentations an uninterrupted run would.
 */
function epochStream(seed: number, epoch: number, use: 'shuffle' | 'dropout' | 'augment'): Random {
  const offset = { shuffle: 1, dropout: 2, augment: 3 }[use];
  return mulberry32(deriveSeed(seed, 100 + epoch * 4 + offset));
}

/** Class probabilities [rows × classes] of a set, never augmented, without dropout. */
export async function predictSet(network: FinetuneNetwork, source: ActivationSource, set: ImageSet, batchSize: number): Promise<Float32Array> {
  const classes = network.numClasses;
  const probs = new Float32Array(set.keys.length * classes);
  for (let start = 0; start < set.keys.length; start += batchSize) {
    const frontier = await source.frontier(set.keys.slice(start, start + batchSize));
    const batch = tf.tidy(() => network.trainableForward(frontier));
    probs.set(batch.dataSync() as Float32Array, start * classes);
    tf.dispose([batch, ...frontier]);
  }
  return probs;
}

async function trainEpoch(trainer: FinetuneTrainer, source: ActivationSource, epoch: number, options: LoopOptions): Promise<{ loss: number; accuracy: number }> {
  const { request, train, signal } = options;
  const order = shuffleInPlace(Int32Array.from(train.keys, (_, i) => i), epochStream(request.seed, epoch, 'shuffle'));
  const dropout = epochStream(request.seed, epoch, 'dropout');
  const augment = request.augment ? { options: request.augment, random: epochStream(request.seed, epoch, 'augment') } : undefined;
  let lossSum = 0;
  let correct = 0;
  const batches = Math.ceil(order.length / request.batchSize);
  for (let start = 0; start < order.length; start += request.batchSize) {
    await yieldAndCheck(signal);
    const rows = order.subarray(start, start + request.batchSize);
    const frontier = await source.frontier(Array.from(rows, (r) => train.keys[r]!), augment);
    try {
      const step = trainer.step(frontier, Int32Array.from(rows, (r) => train.labelIndex[r]!), dropout);
      lossSum += step.loss * rows.length;
      correct += step.correct;
    } finally {
      tf.dispose(frontier);
    }
    await options.onBatch?.(start / request.batchSize + 1, batches);
  }
  return { loss: lossSum / order.length, accuracy: correct / order.length };
}

/**
 * Runs epochs `state.epoch + 1 … request.epochs`: train (shuffled, augmented when asked), validate
 * (never augmented), early stopping on validation loss (training loss without validation) with a
 * snapshot of the best epoch's weights, then `onEpochEnd`. Returns the state after the last epoch run;
 * restoring the best weights is the caller's (`trainer.restoreSnapshot()`).
 */
export async function runEpochs(trainer: FinetuneTrainer, network: FinetuneNetwork, source: ActivationSource, start: LoopState, options: LoopOptions): Promise<LoopState> {
  const { request, validation, signal } = options;
  let state: LoopState = { ...start, history: [...start.history] };
  const runStarted = performance.now() - state.elapsedMs;
  while (!state.stopped && state.epoch < request.epochs) {
    const epoch = state.epoch + 1;
    const stats = await trainEpoch(trainer, source, epoch, options);
    if (!Number.isFinite(stats.loss)) {
      throw new TrainingDivergedError(`Training loss became ${stats.loss} in epoch ${epoch}: lower learningRate (now ${request.learningRate}).`);
    }
    const val = validation ? lossAndAccuracy(await predictSet(network, source, validation, request.batchSize), validation.labelIndex, network.numClasses) : undefined;
    const monitored = val ? val.loss : stats.loss;
    const improved = state.bestLoss === null || monitored < state.bestLoss;
    if (improved) trainer.snapshot();
    const elapsedMs = performance.now() - runStarted;
    const log: EpochLog = { epoch, loss: stats.loss, accuracy: stats.accuracy, elapsedMs, etaMs: (elapsedMs / epoch) * (request.epochs - epoch) };
    if (val) Object.assign(log, { valLoss: val.loss, valAccuracy: val.accuracy });
    const wait = improved ? 0 : state.wait + 1;
    state = {
      epoch,
      history: [...state.history, log],
      bestEpoch: improved ? epoch : state.bestEpoch,
      bestLoss: improved ? monitored : state.bestLoss,
      wait,
      // Keras EarlyStopping: stop once `patience` epochs in a row brought no improvement.
      stopped: wait > 0 && wait >= request.patience,
      elapsedMs,
    };
    await options.onEpochEnd(state, log);
    throwIfAborted(signal);
  }
  return state;
}
