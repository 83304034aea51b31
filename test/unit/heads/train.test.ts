import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import {
  DimensionMismatchError,
  EmptyDataError,
  HeadSpecError,
  InsufficientExamplesError,
  InsufficientLabelsError,
  NonFiniteFeatureError,
  TrainingAbortedError,
  TrainingDivergedError,
  UnknownLabelError,
} from '../../../src/heads/errors.js';
import { DEFAULT_HEAD_SPEC } from '../../../src/heads/spec.js';
import { predictHead, trainHead, type EpochLog, type HeadSpec, type TrainData } from '../../../src/heads/index.js';
import { separableData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

async function train(data: TrainData, spec: HeadSpec = {}, options = {}) {
  const result = await trainHead(data, spec, options);
  const probabilities = predictHead(result.model, data.features, data.dim);
  result.model.dispose();
  return { ...result, probabilities };
}

const lossesOf = (history: EpochLog[]) => history.map(({ loss, accuracy, valLoss, valAccuracy }) => ({ loss, accuracy, valLoss, valAccuracy }));
const small = (seed = 1) => separableData(30, 16, ['cat', 'dog', 'fox'], seed);

describe('trainHead with defaults', () => {
  it('trains a separable 3-class dataset to ≥ 0.95 validation accuracy, reporting the resolved spec', async () => {
    const data = separableData(50, 32, ['fox', 'cat', 'dog']);
    const before = tf.memory().numTensors;
    const result = await trainHead(data);
    try {
      expect(result.labels).toEqual(['cat', 'dog', 'fox']);
      expect(result.config).toEqual({ ...DEFAULT_HEAD_SPEC, engine: 'tfjs' });
      expect(result.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(result.metrics.labels).toEqual(result.labels);
      expect(result.history.length).toBeGreaterThanOrEqual(result.bestEpoch);
      expect(result.model.layers.map((l) => l.name)).toEqual(['head_dense_1', 'head_dropout_1', 'head_predictions']);
    } finally {
      result.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('validation', () => {
  it('holds out a stratified 20% of every label', async () => {
    const data = separableData(1, 8, ['a', 'b']);
    const labels = [...Array(40).fill('a'), ...Array(15).fill('b'), ...Array(10).fill('c')] as string[];
    const rows = { features: new Float32Array(labels.length * 8).map((_, i) => (i % 8) + labels[Math.floor(i / 8)].charCodeAt(0)), dim: 8, labels };
    const result = await train(rows, { epochs: 1, hidden: [4] });
    expect(Object.values(result.metrics.perClass).map((m) => m.support)).toEqual([8, 3, 2]);
    expect(data.labels).toEqual(['a', 'b']);
  });

  it('uses given validation data instead of a split, and validates it', async () => {
    const data = small();
    const validation = separableData(5, 16, ['cat', 'dog', 'fox'], 1);
    const result = await train(data, { epochs: 2, hidden: [8] }, { validation });
    expect(Object.values(result.metrics.perClass).map((m) => m.support)).toEqual([5, 5, 5]);
    await expect(train(data, {}, { validation: { ...validation, labels: validation.labels.map((l) => (l === 'fox' ? 'cow' : l)) } })).rejects.toThrow(
      new UnknownLabelError("validation data: label 'cow' (row 2) is not one of 'cat', 'dog' or 'fox'."),
    );
    await expect(train(data, {}, { validation: { features: new Float32Array(8), dim: 8, labels: ['cat'] } })).rejects.toThrow(
      new DimensionMismatchError('validation data: dim is 8 but the head expects 16-d features.'),
    );
  });

  it('without validation, monitors the training loss and reports metrics on the training rows', async () => {
    const result = await train(small(), { validationSplit: 0, epochs: 3, hidden: [8] });
    expect(result.history.every((log) => log.valLoss === undefined && log.valAccuracy === undefined)).toBe(true);
    expect(Object.values(result.metrics.perClass).map((m) => m.support)).toEqual([30, 30, 30]);
  });
});

describe('determinism', () => {
  it('same data and seed → same split, init, history and predictions; another seed differs', async () => {
    const spec: HeadSpec = { epochs: 3, hidden: [16], dropout: 0.2, seed: 7 };
    const a = await train(small(), spec);
    const b = await train(small(), spec);
    const c = await train(small(), { ...spec, seed: 8 });
    expect(lossesOf(b.history)).toEqual(lossesOf(a.history));
    expect(b.probabilities).toEqual(a.probabilities);
    expect(lossesOf(c.history)).not.toEqual(lossesOf(a.history));
  });
});

describe('class weights', () => {
  // A learning rate too small to move the weights: the epoch's loss is then the initial model's loss.
  const spec: HeadSpec = { epochs: 1, hidden: [8], dropout: 0, engine: 'js', learningRate: 1e-12, validationSplit: 0 };

  /** Σ weight(label) × cross-entropy / rows, from the trained (= initial) model's probabilities. */
  function expectedLoss(data: TrainData, probabilities: Float32Array, labels: string[], weight: (label: string) => number): number {
    const sum = data.labels.reduce((s, label, row) => s - weight(label) * Math.log(probabilities[row * labels.length + labels.indexOf(label)]), 0);
    return sum / data.labels.length;
  }

  it('weigh each row’s loss by its class, as Keras class_weight; balanced weights on balanced data change nothing', async () => {
    const data = small();
    const plain = await train(data, spec);
    const weighted = await train(data, { ...spec, classWeights: { cat: 4 } });
    const balanced = await train(data, { ...spec, classWeights: 'balanced' });
    expect(plain.history[0].loss).toBeCloseTo(expectedLoss(data, plain.probabilities, plain.labels, () => 1), 5);
    expect(weighted.history[0].loss).toBeCloseTo(expectedLoss(data, weighted.probabilities, weighted.labels, (l) => (l === 'cat' ? 4 : 1)), 5);
    expect(weighted.history[0].loss).not.toBeCloseTo(plain.history[0].loss, 2);
    expect(balanced.history[0].loss).toBeCloseTo(plain.history[0].loss, 6);
    expect(weighted.config.classWeights).toEqual({ cat: 4 });
  });

  it('reject an unknown label', async () => {
    await expect(train(small(), { classWeights: { cow: 2 } })).rejects.toThrow("classWeights: label 'cow' is not one of 'cat', 'dog' or 'fox'.");
  });
});

describe('progress', () => {
  it('awaits onEpoch with 1-based epochs, elapsed time and an ETA', async () => {
    const logs: EpochLog[] = [];
    const result = await train(small(), { epochs: 3, patience: 10, hidden: [8] }, {
      onEpoch: async (log: EpochLog) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        logs.push(log);
      },
    });
    expect(logs.map((l) => l.epoch)).toEqual([1, 2, 3]);
    expect(logs).toEqual(result.history);
    expect(logs[1].elapsedMs).toBeGreaterThan(logs[0].elapsedMs);
    expect(logs[0].etaMs).toBeGreaterThan(0);
    expect(logs[2].etaMs).toBe(0);
  });
});

describe('errors', () => {
  const cases: [string, TrainData, HeadSpec, unknown, string][] = [
    ['one label', { features: new Float32Array(6), dim: 2, labels: ['cat', 'cat', 'cat'] }, {}, InsufficientLabelsError, "needs at least 2 labels, found 1: 'cat'"],
    ['a label with one example', { features: new Float32Array(8), dim: 2, labels: ['cat', 'cat', 'cat', 'dog'] }, {}, InsufficientExamplesError, "Label 'dog' has only 1 example"],
    ['empty data', { features: new Float32Array(0), dim: 2, labels: [] }, {}, EmptyDataError, 'training data: no rows'],
    ['a ragged feature array', { features: new Float32Array(7), dim: 2, labels: ['a', 'b', 'c'] }, {}, DimensionMismatchError, 'not a whole number of 2-d rows'],
    ['NaN features', { features: Float32Array.from([1, 2, NaN, 4]), dim: 2, labels: ['a', 'b'], keys: ['x.jpg', 'y.jpg'] }, {}, NonFiniteFeatureError, "row 1 ('y.jpg') has NaN"],
    ['a bad spec', { features: new Float32Array(4), dim: 2, labels: ['a', 'b'] }, { dropout: 2 }, HeadSpecError, 'HeadSpec.dropout must be'],
  ];
  it.each(cases)('rejects %s with a typed, actionable error and no tensor left', async (_name, data, spec, type, message) => {
    const before = tf.memory().numTensors;
    const run = trainHead(data, spec);
    await expect(run).rejects.toThrow(type as typeof Error);
    await expect(run).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a one-example label when validation data is given or the split is off', async () => {
    const data = { features: Float32Array.from([0, 1, 0, 1.1, 5, 0]), dim: 2, labels: ['cat', 'cat', 'dog'] };
    await expect(train(data, { validationSplit: 0, epochs: 1, hidden: [2] })).resolves.toMatchObject({ labels: ['cat', 'dog'] });
  });

  it('reports a diverging run instead of returning NaN weights', async () => {
    const before = tf.memory().numTensors;
    const run = trainHead(small(), { engine: 'js', learningRate: 1e30, epochs: 3, hidden: [8] });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    await expect(run).rejects.toThrow('lower learningRate (now 1e+30)');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AbortSignal', () => {
  it('refuses to start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(trainHead(small(), {}, { signal: controller.signal })).rejects.toThrow(TrainingAbortedError);
  });

  it('stops between batches, mid-epoch, and leaks nothing', async () => {
    const controller = new AbortController();
    const epochs: number[] = [];
    const before = tf.memory().numTensors;
    const run = trainHead(separableData(100, 16, ['a', 'b']), { batchSize: 1, epochs: 5 }, { signal: controller.signal, onEpoch: (l) => void epochs.push(l.epoch) });
    // Fires in the same event-loop turn as the first batch's yield: the second batch sees it.
    setImmediate(() => controller.abort(new Error('job cancelled')));
    await expect(run).rejects.toThrow('Training was aborted by the caller.');
    await expect(run).rejects.toMatchObject({ cause: new Error('job cancelled') });
    expect(epochs).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
