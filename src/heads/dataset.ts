import { listValues } from '../errors.js';
import {
  DimensionMismatchError,
  EmptyDataError,
  InsufficientExamplesError,
  InsufficientLabelsError,
  NonFiniteFeatureError,
  UnknownLabelError,
} from './errors.js';
import { shuffleInPlace, type Random } from './random.js';
import type { ClassWeights, TrainData } from './types.js';

/** Labels encoded as class indices: what the engines train on. */
export interface HeadSet {
  features: Float32Array;
  dim: number;
  rows: number;
  labelIndex: Int32Array;
}

function rowName(data: TrainData, row: number): string {
  const key = data.keys?.[row];
  return key === undefined ? `row ${row}` : `row ${row} ('${key}')`;
}

/** Checks shapes, emptiness and finiteness; returns the row count. `what` names the data in messages. */
export function checkTrainData(data: TrainData, what: string, expectedDim?: number): number {
  if (!(data?.features instanceof Float32Array)) throw new DimensionMismatchError(`${what}: features must be a Float32Array.`);
  const { features, dim, labels } = data;
  if (!Number.isInteger(dim) || dim < 1) throw new DimensionMismatchError(`${what}: dim must be a positive integer, got ${dim}.`);
  if (expectedDim !== undefined && dim !== expectedDim) {
    throw new DimensionMismatchError(`${what}: dim is ${dim} but the head expects ${expectedDim}-d features.`);
  }
  if (features.length % dim !== 0) {
    throw new DimensionMismatchError(`${what}: ${features.length} feature values are not a whole number of ${dim}-d rows.`);
  }
  const rows = features.length / dim;
  if (rows === 0) throw new EmptyDataError(`${what}: no rows (features is empty).`);
  if (!Array.isArray(labels) || labels.length !== rows) {
    throw new DimensionMismatchError(`${what}: ${rows} feature rows but ${labels?.length ?? 0} labels; give one label per row.`);
  }
  if (data.keys !== undefined && data.keys.length !== rows) {
    throw new DimensionMismatchError(`${what}: ${rows} feature rows but ${data.keys.length} keys.`);
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      const row = Math.floor(i / dim);
      throw new NonFiniteFeatureError(
        `${what}: ${rowName(data, row)} has ${features[i]} at column ${i % dim}; re-extract its features.`,
      );
    }
  }
  return rows;
}

/** The sorted distinct labels: the model's output order (Keras sorts class folders the same way). */
export function classList(labels: readonly string[]): string[] {
  const classes = [...new Set(labels)].sort();
  if (classes.length < 2) {
    throw new InsufficientLabelsError(
      `Training needs at least 2 labels, found ${classes.length}${classes.length ? `: ${listValues(classes)}` : ''}.`,
    );
  }
  return classes;
}

/** Encodes labels as indices into `classes`; a label outside it is an error naming the known ones. */
export function encodeLabels(labels: readonly string[], classes: readonly string[], what: string): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  const out = new Int32Array(labels.length);
  labels.forEach((label, row) => {
    const i = index.get(label);
    if (i === undefined) throw new UnknownLabelError(`${what}: label '${label}' (row ${row}) is not one of ${listValues(classes)}.`);
    out[row] = i;
  });
  return out;
}

/** Checks `data` (against `expectedDim` when given) and encodes its labels against `classes`. */
export function toHeadSet(data: TrainData, classes: readonly string[], what: string, expectedDim?: number): HeadSet {
  const rows = checkTrainData(data, what, expectedDim);
  return { features: data.features, dim: data.dim, rows, labelIndex: encodeLabels(data.labels, classes, what) };
}

/** Copies the given rows (in that order) into a new set. */
export function subset(set: HeadSet, rows: Int32Array): HeadSet {
  const features = new Float32Array(rows.length * set.dim);
  gatherRows(set, rows, 0, rows.length, features);
  return { features, dim: set.dim, rows: rows.length, labelIndex: rows.map((r) => set.labelIndex[r]) };
}

/** Copies rows `order[start..end)` contiguously into `out` (a batch buffer). */
export function gatherRows(set: HeadSet, order: Int32Array, start: number, end: number, out: Float32Array): Float32Array {
  const { dim, features } = set;
  for (let i = start; i < end; i++) out.set(features.subarray(order[i] * dim, (order[i] + 1) * dim), (i - start) * dim);
  return out;
}

/**
 * Stratified, seeded split: each label keeps round(count × fraction) rows for validation, at least one
 * and at least one for training — like sklearn's train_test_split(stratify=y). Index lists come back sorted.
 */
export function stratifiedSplit(set: HeadSet, classes: readonly string[], fraction: number, random: Random): { train: Int32Array; validation: Int32Array } {
  const byClass: number[][] = classes.map(() => []);
  set.labelIndex.forEach((c, row) => byClass[c].push(row));
  const train: number[] = [];
  const validation: number[] = [];
  byClass.forEach((rows, c) => {
    if (rows.length < 2) {
      throw new InsufficientExamplesError(
        `Label '${classes[c]}' has only 1 example; a stratified validation split needs at least 2 per label ` +
          '(add examples, pass validation data, or set validationSplit to 0).',
      );
    }
    shuffleInPlace(rows, random);
    const held = Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * fraction)));
    validation.push(...rows.slice(0, held));
    train.push(...rows.slice(held));
  });
  const sorted = (xs: number[]) => Int32Array.from(xs).sort();
  return { train: sorted(train), validation: sorted(validation) };
}

/** Counts per class index. */
export function classCounts(set: HeadSet, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const c of set.labelIndex) counts[c]++;
  return counts;
}

/**
 * Per-class loss weights. 'balanced' is sklearn's compute_class_weight: n_samples / (n_classes × count),
 * over the training rows. A map names labels; unnamed ones weigh 1, unknown names are errors (typos).
 */
export function classWeightVector(spec: ClassWeights, classes: readonly string[], train: HeadSet): Float32Array {
  const weights = new Float32Array(classes.length).fill(1);
  if (spec === 'balanced') {
    const counts = classCounts(train, classes.length);
    counts.forEach((count, c) => (weights[c] = count === 0 ? 0 : train.rows / (classes.length * count)));
  } else if (spec) {
    for (const [label, weight] of Object.entries(spec)) {
      const c = classes.indexOf(label);
      if (c < 0) throw new UnknownLabelError(`classWeights: label '${label}' is not one of ${listValues(classes)}.`);
      weights[c] = weight;
    }
  }
  return weights;
}
