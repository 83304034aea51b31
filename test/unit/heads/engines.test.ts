import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { resolveEngine } from '../../../src/heads/engines/index.js';
import { TrainingAbortedError } from '../../../src/heads/errors.js';
import { predictHead } from '../../../src/heads/predict.js';
import { trainHead } from '../../../src/heads/train.js';
import { HEAD_ACTIVATIONS, type HeadEngineName, type HeadSpec, type TrainData } from '../../../src/heads/types.js';
import { noiseData, relativeDifference, separableData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

/** Trains, checks the model is the only thing left behind, and hands back the result with the model disposed. */
async function trainAndDispose(data: TrainData, spec: HeadSpec, options = {}) {
  const before = tf.memory().numTensors;
  const result = await trainHead(data, spec, options);
  const probabilities = predictHead(result.model, data.features, data.dim);
  const weights = result.model.getWeights().map((w) => w.dataSync().slice());
  result.model.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { ...result, probabilities, weights };
}

const ENGINES: HeadEngineName[] = ['tfjs', 'js', 'fit'];

// One suite, run against every engine (as Hono runs one router suite against every router).
describe.each(ENGINES)('engine %s', (engine) => {
  it('trains a separable 3-class problem to ≥ 0.95 validation accuracy and leaks nothing', async () => {
    const data = separableData(60, 16, ['bird', 'cat', 'dog']);
    const result = await trainAndDispose(data, { engine, hidden: [32], epochs: 15, batchSize: 16 });
    expect(result.config.engine).toBe(engine);
    expect(result.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.history[result.bestEpoch - 1].valAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.history[result.history.length - 1].loss).toBeLessThan(result.history[0].loss);
  });

  it('stops early on overfitting data and restores the best epoch', async () => {
    const data = noiseData(80, 48, ['a', 'b']);
    const result = await trainAndDispose(data, { engine, hidden: [64], dropout: 0, learningRate: 0.01, epochs: 40, patience: 3, batchSize: 16 });
    expect(result.history.length).toBeLessThan(40);
    expect(result.history.length).toBe(result.bestEpoch + 3);
    const best = result.history[result.bestEpoch - 1].valLoss!;
    expect(Math.min(...result.history.map((h) => h.valLoss!))).toBe(best);
    // The metrics are computed on the returned model: they show the best epoch's weights, not the last.
    expect(result.metrics.loss).toBeCloseTo(best, 5);
    expect(result.history[result.history.length - 1].valLoss!).toBeGreaterThan(best);
  });

  it('stops on an AbortSignal with TrainingAbortedError, disposing everything', async () => {
    const data = separableData(20, 8, ['a', 'b']);
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const run = trainHead(data, { engine, epochs: 10, hidden: [8] }, { signal: controller.signal, onEpoch: () => controller.abort('user cancelled') });
    await expect(run).rejects.toThrow(TrainingAbortedError);
    await expect(run).rejects.toMatchObject({ code: 'TrainingAborted', cause: 'user cancelled' });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('engine parity', () => {
  const data = separableData(40, 12, ['a', 'b', 'c'], 5, 0.5);
  const oneEpoch = (engine: HeadEngineName, extra: HeadSpec = {}) =>
    trainAndDispose(data, { engine, hidden: [10], dropout: 0, epochs: 1, batchSize: 16, learningRate: 0.01, ...extra });

  it('js and tfjs match model.fit for one epoch from the same init (loss, val loss, weights)', async () => {
    // One after another: trainAndDispose counts tensors.
    const fit = await oneEpoch('fit');
    const js = await oneEpoch('js');
    const tfjs = await oneEpoch('tfjs');
    for (const other of [js, tfjs]) {
      expect(relativeDifference(other.history[0].loss, fit.history[0].loss)).toBeLessThan(1e-4);
      expect(relativeDifference(other.history[0].valLoss!, fit.history[0].valLoss!)).toBeLessThan(1e-4);
      expect(other.history[0].accuracy).toBeCloseTo(fit.history[0].accuracy, 6);
      other.weights.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(fit.weights[i][j], 4)));
    }
  });

  it('class weights and L2 mean the same as in model.fit', async () => {
    const extra: HeadSpec = { classWeights: { a: 3, c: 0.5 }, l2: 0.01 };
    const fit = await oneEpoch('fit', extra);
    const js = await oneEpoch('js', extra);
    const tfjs = await oneEpoch('tfjs', extra);
    expect(relativeDifference(js.history[0].loss, fit.history[0].loss)).toBeLessThan(1e-4);
    expect(relativeDifference(tfjs.history[0].loss, fit.history[0].loss)).toBeLessThan(1e-4);
  });

  it('js and tfjs draw the same dropout masks: same history over several epochs', async () => {
    const spec: HeadSpec = { hidden: [10, 6], dropout: 0.3, epochs: 4, patience: 10, batchSize: 8, learningRate: 0.01 };
    const js = await trainAndDispose(data, { ...spec, engine: 'js' });
    const tfjs = await trainAndDispose(data, { ...spec, engine: 'tfjs' });
    js.history.forEach((log, i) => {
      expect(relativeDifference(log.loss, tfjs.history[i].loss)).toBeLessThan(1e-3);
      expect(relativeDifference(log.valLoss!, tfjs.history[i].valLoss!)).toBeLessThan(1e-3);
    });
  });

  it.each(HEAD_ACTIVATIONS)('%s: js backprop matches the TF.js loop', async (activation) => {
    const spec: HeadSpec = { activation, hidden: [7, 5], dropout: 0, epochs: 2, patience: 5, batchSize: 16, learningRate: 0.01 };
    const js = await trainAndDispose(data, { ...spec, engine: 'js' });
    const tfjs = await trainAndDispose(data, { ...spec, engine: 'tfjs' });
    expect(relativeDifference(js.history[1].loss, tfjs.history[1].loss)).toBeLessThan(1e-3);
    js.probabilities.forEach((p, i) => expect(p).toBeCloseTo(tfjs.probabilities[i], 3));
  });
});

describe('resolveEngine', () => {
  it("picks js on the cpu backend and tfjs elsewhere; a named engine stays", () => {
    expect(resolveEngine('auto', 'cpu')).toBe('js');
    expect(resolveEngine('auto', 'wasm')).toBe('tfjs');
    expect(resolveEngine('auto', 'tensorflow')).toBe('tfjs');
    expect(resolveEngine('fit', 'cpu')).toBe('fit');
  });
});
