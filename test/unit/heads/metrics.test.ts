import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { evaluateHead } from '../../../src/heads/evaluate.js';
import { DimensionMismatchError, UnknownLabelError } from '../../../src/heads/errors.js';
import { computeMetrics } from '../../../src/heads/metrics.js';
import { buildHeadModel } from '../../../src/heads/model.js';
import { expectNoLeak } from '../../helpers/tf.js';

// A hand-made example: 10 rows, true cat×4, dog×3, fox×3. Confusion (rows true, columns predicted):
//   cat [3, 1, 0]   dog [1, 2, 0]   fox [0, 1, 2]
const labels = ['cat', 'dog', 'fox'];
const truth = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
const predicted = [0, 0, 0, 1, 1, 1, 0, 2, 1, 2];
const expectedMatrix = [
  [3, 1, 0],
  [1, 2, 0],
  [0, 1, 2],
];

function assessHandExample(metrics: ReturnType<typeof computeMetrics>, correctP: number, wrongP: number): void {
  expect(metrics.labels).toEqual(labels);
  expect(metrics.confusionMatrix).toEqual(expectedMatrix);
  expect(metrics.accuracy).toBeCloseTo(0.7, 6);
  // Worked by hand: precision = tp / column sum, recall = tp / row sum, F1 = 2pr / (p + r).
  expect(metrics.perClass.cat).toEqual({ precision: 0.75, recall: 0.75, f1: 0.75, support: 4 });
  expect(metrics.perClass.dog.precision).toBeCloseTo(0.5, 10);
  expect(metrics.perClass.dog.recall).toBeCloseTo(2 / 3, 10);
  expect(metrics.perClass.dog.f1).toBeCloseTo(4 / 7, 10);
  expect(metrics.perClass.dog.support).toBe(3);
  expect(metrics.perClass.fox).toMatchObject({ precision: 1, support: 3 });
  expect(metrics.perClass.fox.recall).toBeCloseTo(2 / 3, 10);
  expect(metrics.perClass.fox.f1).toBeCloseTo(0.8, 10);
  // 7 right rows at probability correctP, 3 wrong rows whose true class got wrongP.
  expect(metrics.loss).toBeCloseTo((7 * -Math.log(correctP) + 3 * -Math.log(wrongP)) / 10, 5);
}

describe('computeMetrics', () => {
  it('computes accuracy, loss, precision/recall/F1 and the confusion matrix', () => {
    const probs = new Float32Array(30).fill(0.1);
    predicted.forEach((p, row) => (probs[row * 3 + p] = 0.8));
    assessHandExample(computeMetrics(probs, truth, labels), 0.8, 0.1);
  });

  it('gives 0 precision and F1 to a class never predicted, and clips log(0)', () => {
    const probs = Float32Array.from([1, 0, 1, 0]);
    const metrics = computeMetrics(probs, Int32Array.from([0, 1]), ['a', 'b']);
    expect(metrics.perClass.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(metrics.loss).toBeCloseTo((-Math.log(1 - 1e-7) - Math.log(1e-7)) / 2, 5);
  });
});

describe('evaluateHead', () => {
  let model: tf.LayersModel;

  beforeAll(async () => {
    await initBackend();
    // Softmax regression with kernel 10·I: the prediction is the feature row's largest entry.
    model = buildHeadModel(3, 3, { hidden: [], activation: 'relu', dropout: 0, seed: 1, l2: 0 });
    tf.tidy(() => model.setWeights([tf.mul(tf.eye(3), 10), tf.zeros([3])]));
  });
  afterAll(() => model.dispose());

  const oneHotRows = () => {
    const features = new Float32Array(30);
    predicted.forEach((p, row) => (features[row * 3 + p] = 1));
    return { features, dim: 3, labels: [...truth].map((t) => labels[t]) };
  };

  it('evaluates the hand-made example end to end, without leaking', async () => {
    const metrics = await expectNoLeak(() => evaluateHead(model, oneHotRows(), labels));
    const denominator = Math.exp(10) + 2;
    assessHandExample(metrics, Math.exp(10) / denominator, 1 / denominator);
  });

  it('rejects labels the head does not know, and a label list of the wrong size', () => {
    const data = { ...oneHotRows(), labels: [...oneHotRows().labels.slice(1), 'cow'] };
    expect(() => evaluateHead(model, data, labels)).toThrow(new UnknownLabelError("evaluation data: label 'cow' (row 9) is not one of 'cat', 'dog' or 'fox'."));
    expect(() => evaluateHead(model, oneHotRows(), ['cat', 'dog'])).toThrow(
      new DimensionMismatchError('evaluateHead: the head has 3 outputs but 2 labels were given.'),
    );
  });

  it('rejects features of another width', () => {
    const data = { features: new Float32Array(8), dim: 4, labels: ['cat', 'dog'] };
    expect(() => evaluateHead(model, data, labels)).toThrow('predictHead: dim is 4 but the head expects 3-d features.');
  });
});
