import { InsufficientExamplesError } from '../errors.js';
import { shuffleInPlace, type Random } from '../random.js';

export interface FoldPlan {
  /** Fold of every row, 0 … folds − 1. */
  foldOf: Int32Array;
  folds: number;
  requested: number;
  /** Why fewer folds than requested ran, when they did. */
  note?: string;
}

/**
 * Stratified k-fold assignment, seeded: each label's rows are shuffled and dealt to the folds in turn,
 * so every fold holds ⌊count/k⌋ or ⌈count/k⌉ rows of every label (scikit-learn's StratifiedKFold with
 * shuffle=True). With fewer than k rows in some label, k drops to that label's count (a label of 2 rows
 * is leave-one-out for it); a label with fewer than 2 rows cannot be held out at all: an error.
 */
export function stratifiedFolds(labelIndex: Int32Array, classes: readonly string[], requested: number, random: Random): FoldPlan {
  const byClass: number[][] = classes.map(() => []);
  labelIndex.forEach((c, row) => byClass[c]!.push(row));
  const smallest = Math.min(...byClass.map((rows) => rows.length));
  if (smallest < 2) {
    const label = classes[byClass.findIndex((rows) => rows.length === smallest)];
    throw new InsufficientExamplesError(
      `Label '${label}' has only ${smallest} example${smallest === 1 ? '' : 's'}; cross-validation needs at least 2 per label (add examples, or remove the label).`,
    );
  }
  const folds = Math.min(requested, smallest);
  const foldOf = new Int32Array(labelIndex.length);
  // One running offset across labels, so small labels do not all land in fold 0 and folds stay even in size.
  let next = 0;
  for (const rows of byClass) {
    shuffleInPlace(rows, random);
    for (const row of rows) foldOf[row] = next++ % folds;
  }
  const note =
    folds < requested
      ? `${folds}-fold instead of ${requested}-fold cross-validation: the smallest label has ${smallest} images${folds === smallest ? ' (leave-one-out for it)' : ''}.`
      : undefined;
  return { foldOf, folds, requested, ...(note ? { note } : {}) };
}

/** Row indices of the training and held-out side of one fold, ascending. */
export function foldRows(plan: FoldPlan, fold: number): { train: Int32Array; heldOut: Int32Array } {
  const train: number[] = [];
  const heldOut: number[] = [];
  plan.foldOf.forEach((f, row) => (f === fold ? heldOut : train).push(row));
  return { train: Int32Array.from(train), heldOut: Int32Array.from(heldOut) };
}
