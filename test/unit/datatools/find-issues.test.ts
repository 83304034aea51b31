import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { confidentLearningIssues } from '../../../src/datatools/confident.js';
import { findIssues, type IssueRows } from '../../../src/datatools/find-issues.js';
import { stratifiedFolds } from '../../../src/datatools/probe.js';
import { separableData } from '../heads/fixtures.js';

beforeAll(async () => {
  await initBackend();
});

/** Separable data with known plants: a byte copy, a near copy, a flipped label, a far-away row. */
function plantedRows(): { rows: IssueRows; other: IssueRows } {
  const data = separableData(30, 16, ['cat', 'dog', 'fox'], 5);
  const keys = data.keys!.slice();
  const sha256 = keys.map((k) => `sha-${k}`);
  const labels = data.labels.slice();
  const features = data.features.slice();
  const dim = data.dim;
  // Row 1 is row 0's bytes under another name; row 2 is row 0 nudged by 0.1 %.
  sha256[1] = sha256[0]!;
  features.set(data.features.subarray(0, dim), dim);
  features.set(data.features.subarray(0, dim).map((v) => v * 1.001), 2 * dim);
  // Row 10 is a dog labelled cat.
  labels[10] = labels[10] === 'cat' ? 'dog' : 'cat';
  // Row 20 points nowhere near any class centre.
  features.set(Float32Array.from({ length: dim }, (_, j) => (j % 2 ? 4 : -4)), 20 * dim);
  const rows = { keys, labels, sha256, features, dim };
  // The other dataset holds row 5's bytes and row 6's picture re-encoded (same features, other bytes).
  const other = {
    keys: ['images/test/a.png', 'images/test/b.png'],
    labels: ['cat', 'cat'],
    sha256: [sha256[5]!, 'sha-other'],
    features: Float32Array.from([...features.subarray(5 * dim, 6 * dim), ...features.subarray(6 * dim, 7 * dim)]),
    dim,
  };
  return { rows, other };
}

/** The label row `r` had before it was planted: separableData cycles through the labels. */
const data = (r: number): string => ['cat', 'dog', 'fox'][r % 3]!;

describe('findIssues', () => {
  it('reports each planted problem, most suspicious first', async () => {
    const { rows, other } = plantedRows();
    const issues = await findIssues(rows, { against: other, folds: 3 });

    expect(issues.duplicates[0]).toEqual({ keys: [rows.keys[0]!, rows.keys[1]!, rows.keys[2]!].sort(), score: expect.any(Number), kind: 'near' });
    expect(issues.duplicates[0]!.score).toBeGreaterThan(0.99);
    expect(issues.leakage).toEqual([
      { key: rows.keys[5], otherKey: 'images/test/a.png', score: 1, kind: 'identical' },
      { key: rows.keys[6], otherKey: 'images/test/b.png', score: expect.closeTo(1, 5), kind: 'near' },
    ]);
    // The far-away row may rank beside it: no class is confident about it either.
    const flipped = issues.labelIssues.slice(0, 2).find((i) => i.key === rows.keys[10]);
    expect(flipped).toMatchObject({ givenLabel: rows.labels[10], suggestedLabel: data(10) });
    expect(issues.outliers[0]).toMatchObject({ key: rows.keys[20] });
    expect(issues.notes).toEqual([]);
  });

  it('says why there are no label issues for a dataset of one label', async () => {
    const { rows } = plantedRows();
    const issues = await findIssues({ ...rows, labels: rows.labels.map(() => 'cat') });
    expect(issues.labelIssues).toEqual([]);
    expect(issues.notes).toEqual(['labelIssues: the dataset has 1 label; confident learning needs at least 2.']);
  });
});

describe('confident learning', () => {
  it('flags the rows whose confident label differs, lowest self-confidence first', () => {
    // Thresholds: class 0 mean p0 over rows labelled 0 = (0.9 + 0.8 + 0.1) / 3 = 0.6; class 1 = (0.9 + 0.4) / 2 = 0.65.
    const probs = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.1, 0.9, 0.6, 0.4]);
    const issues = confidentLearningIssues({ classes: ['a', 'b'], probs, labelIndex: Int32Array.from([0, 0, 0, 1, 1]), folds: 2 });
    // Row 2 (labelled a, p(b) 0.9 ≥ 0.65) is an issue; row 4 (labelled b, p(a) 0.6 ≥ 0.6) too, less sure.
    expect(issues.map((i) => [i.row, i.suggested])).toEqual([
      [2, 1],
      [4, 0],
    ]);
    expect(issues[0]!.score).toBeCloseTo(0.9, 6);
  });

  it('stratifiedFolds deals every label across the folds, the same way for the same seed', () => {
    const labels = Int32Array.from({ length: 30 }, (_, i) => (i < 20 ? 0 : 1));
    const folds = stratifiedFolds(labels, 2, 5, 9);
    expect(Array.from(folds)).toEqual(Array.from(stratifiedFolds(labels, 2, 5, 9)));
    for (let f = 0; f < 5; f++) {
      expect(Array.from(folds.subarray(0, 20)).filter((x) => x === f)).toHaveLength(4);
      expect(Array.from(folds.subarray(20)).filter((x) => x === f)).toHaveLength(2);
    }
  });
});
