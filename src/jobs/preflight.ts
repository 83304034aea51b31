import type { DatasetIndex } from '../features/dataset.js';
import { CorruptFeatureError, forgetBadFeatures, readLinkedFeature } from '../features/links.js';
import { PREFIX, UNLABELLED } from '../layout.js';
import type { FeatureNamespace } from '../features/namespace.js';
import { namespaceId } from '../features/namespace.js';
import type { ObjectStore } from '../store/index.js';
import { MissingFeaturesError, TooFewLabelsError, UnknownDatasetError } from './errors.js';

/** Dataset names in the bucket (the folders under images/), for "known datasets" hints. At most `limit`. */
export async function listDatasets(store: ObjectStore, limit = 50): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await store.list(PREFIX.images, { delimiter: '/', continuationToken: token });
    names.push(...page.commonPrefixes.map((p) => p.slice(PREFIX.images.length, -1)));
    token = page.nextToken;
  } while (token && names.length < limit);
  return names.slice(0, limit);
}

/** The class folders of a dataset, sorted; `_unlabelled` is for classification only, never a class. */
export function trainingLabels(index: DatasetIndex): string[] {
  return Object.keys(index.labels)
    .filter((label) => label !== UNLABELLED)
    .sort();
}

/** UnknownDatasetError when the dataset has no images at all. */
export async function requireImages(store: ObjectStore, index: DatasetIndex): Promise<void> {
  if (index.totals.images === 0) throw new UnknownDatasetError(index.dataset, await listDatasets(store));
}

/**
 * The checks that turn an unusable dataset into a reason a person can act on, before any feature is read:
 * it exists, has two labels or more, and every label has extracted features.
 */
export async function checkTrainingDataset(store: ObjectStore, index: DatasetIndex): Promise<string[]> {
  await requireImages(store, index);
  const labels = trainingLabels(index);
  if (labels.length < 2) throw new TooFewLabelsError(index.dataset, labels);
  const missing = labels.filter((label) => index.labels[label]!.extracted === 0);
  if (missing.length) {
    throw new MissingFeaturesError(
      index.dataset,
      index.namespace,
      missing.map((label) => ({ label, ...index.labels[label]! })),
    );
  }
  return labels;
}

/** Length of one feature vector of the dataset, read from a single cached feature file. */
export async function featureDim(store: ObjectStore, ns: FeatureNamespace, index: DatasetIndex): Promise<number> {
  const first = index.images.find((image) => image.status === 'extracted' && image.label !== UNLABELLED);
  if (!first?.sha256) throw new MissingFeaturesError(index.dataset, namespaceId(ns), []);
  const checked = await readLinkedFeature(store, ns, { key: first.key, sha256: first.sha256, digest: first.digest });
  if (!checked.ok) {
    await forgetBadFeatures(store, ns, [checked.problem]);
    throw new CorruptFeatureError([checked.problem]);
  }
  return checked.features.length;
}
