import { describe, expect, it } from 'vitest';
import {
  checkTrainData,
  classCounts,
  classList,
  classWeightVector,
  encodeLabels,
  stratifiedSplit,
  toHeadSet,
} from '../../../src/heads/dataset.js';
import {
  DimensionMismatchError,
  EmptyDataError,
  InsufficientExamplesError,
  InsufficientLabelsError,
  NonFiniteFeatureError,
  UnknownLabelError,
} from '../../../src/heads/errors.js';
import { deriveSeed, fillDropoutMask, mulberry32, shuffleInPlace } from '../../../src/heads/random.js';
import type { TrainData } from '../../../src/heads/types.js';

const data = (labels: string[], dim = 2): TrainData => ({
  features: Float32Array.from({ length: labels.length * dim }, (_, i) => i),
  dim,
  labels,
});

describe('mulberry32', () => {
  it('repeats for a seed, differs across seeds, stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const first = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, mulberry32(43))).not.toEqual(first.slice(0, 5));
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(first.reduce((s, x) => s + x, 0) / 1000).toBeCloseTo(0.5, 1);
  });

  it('derives distinct streams and shuffles as a permutation', () => {
    expect(new Set([0, 1, 2].map((s) => deriveSeed(42, s))).size).toBe(3);
    const shuffled = shuffleInPlace(Int32Array.from({ length: 50 }, (_, i) => i), mulberry32(1));
    expect([...shuffled].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('draws inverted-dropout masks: 0 at the rate, else 1 / (1 − rate)', () => {
    const mask = fillDropoutMask(new Float32Array(10000), 10000, 0.25, mulberry32(5));
    const dropped = mask.filter((m) => m === 0).length;
    expect(dropped / 10000).toBeCloseTo(0.25, 1);
    expect(new Set(mask)).toEqual(new Set([0, Math.fround(1 / 0.75)]));
  });
});

describe('checkTrainData', () => {
  it('returns the row count', () => {
    expect(checkTrainData(data(['a', 'b', 'a']), 'training data')).toBe(3);
  });

  it('rejects empty data', () => {
    expect(() => checkTrainData({ features: new Float32Array(0), dim: 4, labels: [] }, 'training data')).toThrow(
      new EmptyDataError('training data: no rows (features is empty).'),
    );
  });

  it('rejects shapes that do not add up', () => {
    expect(() => checkTrainData({ features: new Float32Array(5), dim: 2, labels: ['a', 'b'] }, 'training data')).toThrow(
      new DimensionMismatchError('training data: 5 feature values are not a whole number of 2-d rows.'),
    );
    expect(() => checkTrainData(data(['a', 'b']), 'training data', 3)).toThrow('training data: dim is 2 but the head expects 3-d features.');
    expect(() => checkTrainData({ ...data(['a', 'b']), labels: ['a'] }, 'training data')).toThrow(
      'training data: 2 feature rows but 1 labels; give one label per row.',
    );
    expect(() => checkTrainData({ ...data(['a', 'b']), keys: ['k'] }, 'training data')).toThrow('training data: 2 feature rows but 1 keys.');
    expect(() => checkTrainData({ ...data(['a']), dim: 0 }, 'training data')).toThrow(DimensionMismatchError);
    expect(() => checkTrainData({ features: [1, 2] as never, dim: 2, labels: ['a'] }, 'training data')).toThrow('features must be a Float32Array');
  });

  it('names the row, its key and the column of a NaN or infinite value', () => {
    const bad = data(['a', 'b', 'c']);
    bad.features[3] = Number.NaN;
    expect(() => checkTrainData(bad, 'training data')).toThrow(new NonFiniteFeatureError('training data: row 1 has NaN at column 1; re-extract its features.'));
    bad.features[3] = 1;
    bad.features[4] = Infinity;
    bad.keys = ['k0', 'k1', 'images/x/c.jpg'];
    expect(() => checkTrainData(bad, 'training data')).toThrow("row 2 ('images/x/c.jpg') has Infinity at column 0");
  });
});

describe('labels', () => {
  it('sorts the class list (the output order)', () => {
    expect(classList(['dog', 'cat', 'dog', 'bird'])).toEqual(['bird', 'cat', 'dog']);
  });

  it('needs at least 2 labels', () => {
    expect(() => classList(['cat', 'cat'])).toThrow(new InsufficientLabelsError("Training needs at least 2 labels, found 1: 'cat'."));
    expect(() => classList([])).toThrow('Training needs at least 2 labels, found 0.');
  });

  it('encodes against the class list and names unknown labels', () => {
    expect([...encodeLabels(['dog', 'cat'], ['cat', 'dog'], 'x')]).toEqual([1, 0]);
    expect(() => encodeLabels(['cat', 'cow'], ['cat', 'dog'], 'validation data')).toThrow(
      new UnknownLabelError("validation data: label 'cow' (row 1) is not one of 'cat' or 'dog'."),
    );
  });
});

describe('stratifiedSplit', () => {
  const labels = [...Array(50).fill('a'), ...Array(30).fill('b'), ...Array(20).fill('c')] as string[];
  const set = toHeadSet(data(labels), ['a', 'b', 'c'], 'x');

  it('holds out the fraction of every label', () => {
    const { train, validation } = stratifiedSplit(set, ['a', 'b', 'c'], 0.2, mulberry32(1));
    const count = (rows: Int32Array) => classCounts({ ...set, labelIndex: rows.map((r) => set.labelIndex[r]), rows: rows.length }, 3);
    expect(count(validation)).toEqual([10, 6, 4]);
    expect(count(train)).toEqual([40, 24, 16]);
    expect(new Set([...train, ...validation]).size).toBe(100);
    expect([...validation]).toEqual([...validation].sort((x, y) => x - y));
  });

  it('is seeded: same seed same split, other seed other split', () => {
    const a = stratifiedSplit(set, ['a', 'b', 'c'], 0.2, mulberry32(7));
    const b = stratifiedSplit(set, ['a', 'b', 'c'], 0.2, mulberry32(7));
    const c = stratifiedSplit(set, ['a', 'b', 'c'], 0.2, mulberry32(8));
    expect(a.validation).toEqual(b.validation);
    expect(a.validation).not.toEqual(c.validation);
  });

  it('keeps at least one row of each label on both sides', () => {
    const small = toHeadSet(data(['a', 'a', 'b', 'b', 'b']), ['a', 'b'], 'x');
    const { train, validation } = stratifiedSplit(small, ['a', 'b'], 0.1, mulberry32(1));
    expect(validation.length).toBe(2);
    expect(train.length).toBe(3);
  });

  it('refuses a label with a single example', () => {
    const small = toHeadSet(data(['a', 'a', 'b']), ['a', 'b'], 'x');
    expect(() => stratifiedSplit(small, ['a', 'b'], 0.2, mulberry32(1))).toThrow(InsufficientExamplesError);
    expect(() => stratifiedSplit(small, ['a', 'b'], 0.2, mulberry32(1))).toThrow(
      "Label 'b' has only 1 example; a stratified validation split needs at least 2 per label",
    );
  });
});

describe('classWeightVector', () => {
  const set = toHeadSet(data(['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'c']), ['a', 'b', 'c'], 'x');

  it("'balanced' is n_samples / (n_classes × count), as sklearn", () => {
    const weights = classWeightVector('balanced', ['a', 'b', 'c'], set);
    expect([...weights].map((w) => Number(w.toFixed(6)))).toEqual([0.5, 1.5, 3]);
  });

  it('maps named labels, others weigh 1; none means all 1', () => {
    expect([...classWeightVector({ c: 4 }, ['a', 'b', 'c'], set)]).toEqual([1, 1, 4]);
    expect([...classWeightVector(null, ['a', 'b', 'c'], set)]).toEqual([1, 1, 1]);
  });

  it('rejects unknown labels', () => {
    expect(() => classWeightVector({ d: 2 }, ['a', 'b', 'c'], set)).toThrow(
      new UnknownLabelError("classWeights: label 'd' is not one of 'a', 'b' or 'c'."),
    );
  });
});
