import type { tf } from '../engine/backend.js';
import { InvalidArgumentError } from '../errors.js';
import classes from './imagenet_classes.json' with { type: 'json' };

/** One decoded class, like a Keras `(wnid, name, score)` tuple. */
export interface Prediction {
  classIndex: number;
  /** WordNet id (e.g. 'n01440764'); omitted because the bundled class list has none. */
  wnid?: string;
  /** The class's first name, e.g. 'tench' (Keras' short names, with spaces instead of underscores). */
  label: string;
  score: number;
}

export const IMAGENET_CLASS_COUNT = 1000;

// imagenet_classes.json maps "0".."999" to the synset's comma-separated names, most common first.
const NAMES: readonly string[][] = Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) =>
  (classes as Record<string, string>)[String(i)]!.split(',').map((name) => name.trim()),
);

/** The label of an ImageNet class index (0–999): the first of its names, e.g. 0 → 'tench'. */
export function imagenetLabel(index: number): string {
  return imagenetClassNames(index)[0]!;
}

/** All names of an ImageNet class index, e.g. 0 → ['tench', 'Tinca tinca']. */
export function imagenetClassNames(index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= IMAGENET_CLASS_COUNT) {
    throw new InvalidArgumentError(`ImageNet class index must be an integer from 0 to 999, got ${index}.`);
  }
  return [...NAMES[index]!];
}

/**
 * Keras `decode_predictions(preds, top)`: for each row of a [N, 1000] batch of ImageNet scores, the `top`
 * classes by decreasing score (ties: lower index first). Accepts a tensor (read, not disposed) or rows.
 */
export function decodePredictions(preds: tf.Tensor | ReadonlyArray<ArrayLike<number>>, top = 5): Prediction[][] {
  if (!Number.isInteger(top) || top < 1) throw new InvalidArgumentError(`top must be a positive integer, got ${top}.`);
  return toRows(preds).map((row) => topClasses(row, Math.min(top, IMAGENET_CLASS_COUNT)));
}

function toRows(preds: tf.Tensor | ReadonlyArray<ArrayLike<number>>): ArrayLike<number>[] {
  if (Array.isArray(preds)) {
    const bad = preds.find((row) => row.length !== IMAGENET_CLASS_COUNT);
    if (bad !== undefined) throw shapeError(`(${preds.length}, ${bad.length})`);
    return preds as ArrayLike<number>[];
  }
  const tensor = preds as tf.Tensor;
  if (tensor.rank !== 2 || tensor.shape[1] !== IMAGENET_CLASS_COUNT) throw shapeError(pythonShape(tensor.shape));
  const values = tensor.dataSync() as Float32Array;
  return Array.from({ length: tensor.shape[0]! }, (_, i) => values.subarray(i * IMAGENET_CLASS_COUNT, (i + 1) * IMAGENET_CLASS_COUNT));
}

function topClasses(row: ArrayLike<number>, top: number): Prediction[] {
  const score = (i: number): number => (Number.isNaN(row[i]) ? -Infinity : row[i]!);
  const order = Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => i).sort((a, b) => score(b) - score(a) || a - b);
  return order.slice(0, top).map((classIndex) => ({ classIndex, label: NAMES[classIndex]![0]!, score: row[classIndex]! }));
}

/** Keras' own message, so a user searching for it finds the cause. */
function shapeError(shape: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `\`decode_predictions\` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). Received array with shape: ${shape}`,
  );
}

function pythonShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}
