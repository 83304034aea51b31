import { describe, expect, it } from 'vitest';
import { InsufficientExamplesError } from '../../../../src/heads/errors.js';
import { foldRows, stratifiedFolds } from '../../../../src/heads/auto/folds.js';
import { mulberry32 } from '../../../../src/heads/random.js';

// 3 labels of 20, 11 and 7 rows.
const counts = [20, 11, 7];
const labelIndex = Int32Array.from(counts.flatMap((n, c) => Array.from({ length: n }, () => c)));
const classes = ['a', 'b', 'c'];

describe('stratifiedFolds', () => {
  it('puts every row in exactly one held-out fold, never on both sides of a fold (leak-free)', () => {
    const plan = stratifiedFolds(labelIndex, classes, 5, mulberry32(1));
    const heldOutSeen = new Int32Array(labelIndex.length);
    for (let f = 0; f < plan.folds; f++) {
      const { train, heldOut } = foldRows(plan, f);
      const trainSet = new Set(train);
      expect(heldOut.some((row) => trainSet.has(row))).toBe(false);
      expect(train.length + heldOut.length).toBe(labelIndex.length);
      heldOut.forEach((row) => heldOutSeen[row]++);
    }
    expect([...heldOutSeen].every((n) => n === 1)).toBe(true);
  });

  it('keeps each label in every fold in proportion: ⌊n/k⌋ or ⌈n/k⌉ of its rows', () => {
    const plan = stratifiedFolds(labelIndex, classes, 5, mulberry32(1));
    for (let f = 0; f < plan.folds; f++) {
      const { heldOut } = foldRows(plan, f);
      counts.forEach((n, c) => {
        const inFold = [...heldOut].filter((row) => labelIndex[row] === c).length;
        expect(inFold).toBeGreaterThanOrEqual(Math.floor(n / 5));
        expect(inFold).toBeLessThanOrEqual(Math.ceil(n / 5));
      });
    }
  });

  it('is seeded: the same seed gives the same folds, another seed other ones', () => {
    const a = stratifiedFolds(labelIndex, classes, 5, mulberry32(7)).foldOf;
    expect(stratifiedFolds(labelIndex, classes, 5, mulberry32(7)).foldOf).toEqual(a);
    expect(stratifiedFolds(labelIndex, classes, 5, mulberry32(8)).foldOf).not.toEqual(a);
  });

  it('uses fewer folds when a label has fewer rows than k, and says so; 2 rows per label still work', () => {
    const tiny = Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2, 2]);
    const plan = stratifiedFolds(tiny, classes, 5, mulberry32(1));
    expect(plan).toMatchObject({ folds: 2, requested: 5 });
    expect(plan.note).toMatch(/2-fold instead of 5-fold.*smallest label has 2 images.*leave-one-out/);
    for (let f = 0; f < 2; f++) expect(new Set([...foldRows(plan, f).train].map((row) => tiny[row])).size).toBe(3);
  });

  it('refuses a label with a single row: it cannot be held out', () => {
    expect(() => stratifiedFolds(Int32Array.from([0, 0, 1]), ['a', 'b'], 5, mulberry32(1))).toThrow(InsufficientExamplesError);
    expect(() => stratifiedFolds(Int32Array.from([0, 0, 1]), ['a', 'b'], 5, mulberry32(1))).toThrow(/Label 'b' has only 1 example; cross-validation needs at least 2 per label/);
  });
});
