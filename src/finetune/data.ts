import { datasetPrefix, UNLABELLED, parseImageKey } from '../layout.js';
import { stratifiedSplit, type HeadSet } from '../heads/dataset.js';
import { deriveSeed, mulberry32 } from '../heads/random.js';
import { TooFewLabelsError, UnknownDatasetError } from '../jobs/errors.js';
import { listDatasets } from '../jobs/preflight.js';
import type { ObjectStore } from '../store/index.js';

/** Labelled images of one side of the split: keys with their class indices into `labels`. */
export interface ImageSet {
  keys: string[];
  labelIndex: Int32Array;
}

export interface DatasetImages {
  /** Sorted class names: the model's output order (Keras sorts class folders the same way). */
  labels: string[];
  all: ImageSet;
}

/** Seed stream of the validation split (the head core uses 0 for its own; the streams only need to differ per use). */
const SPLIT_STREAM = 10;

/**
 * Every labelled image under `images/<dataset>/<label>/`, in key order (`_unlabelled` is for
 * classification only). UnknownDatasetError when there is none, TooFewLabelsError below two labels.
 */
export async function listDatasetImages(store: ObjectStore, dataset: string): Promise<DatasetImages> {
  const found: { key: string; label: string }[] = [];
  for await (const info of store.listAll(datasetPrefix(dataset))) {
    const parsed = parseImageKey(info.key);
    if (parsed && parsed.label !== UNLABELLED && info.size > 0) found.push({ key: info.key, label: parsed.label });
  }
  if (found.length === 0) throw new UnknownDatasetError(dataset, await listDatasets(store));
  const labels = [...new Set(found.map((f) => f.label))].sort();
  if (labels.length < 2) throw new TooFewLabelsError(dataset, labels);
  const index = new Map(labels.map((l, i) => [l, i]));
  found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { labels, all: { keys: found.map((f) => f.key), labelIndex: Int32Array.from(found, (f) => index.get(f.label)!) } };
}

export function subsetOf(set: ImageSet, rows: ArrayLike<number>): ImageSet {
  return { keys: Array.from(rows, (r) => set.keys[r]!), labelIndex: Int32Array.from(rows, (r) => set.labelIndex[r]!) };
}

/**
 * The head core's stratified, seeded split over images: each label keeps round(count × fraction)
 * images (at least one, and one for training) for validation. InsufficientExamplesError for a label
 * with a single image. `fraction` 0: everything trains, no validation.
 */
export function splitImages(set: ImageSet, labels: readonly string[], fraction: number, seed: number): { train: ImageSet; validation?: ImageSet } {
  if (fraction === 0) return { train: set };
  // stratifiedSplit reads only the label indices of its set.
  const rows: HeadSet = { features: new Float32Array(0), dim: 1, rows: set.keys.length, labelIndex: set.labelIndex };
  const split = stratifiedSplit(rows, labels, fraction, mulberry32(deriveSeed(seed, SPLIT_STREAM)));
  return { train: subsetOf(set, split.train), validation: subsetOf(set, split.validation) };
}
