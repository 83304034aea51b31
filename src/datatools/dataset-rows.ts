import { buildDatasetIndex, type DatasetIndex } from '../features/dataset.js';
import type { FeatureNamespace } from '../features/namespace.js';
import { loadDatasetFeatures, type ShardManifest } from '../features/shards.js';
import type { ObjectStore } from '../store/index.js';
import type { IssueRows } from './find-issues.js';

/** A dataset's extracted, labelled images with their features (from the shards) and content hashes. */
export interface DatasetRows extends IssueRows {
  dataset: string;
  manifest: ShardManifest;
}

/** Reads a dataset's rows through its shards (rebuilt when stale); NoFeatures (404) when nothing is extracted. */
export async function loadDatasetRows(store: ObjectStore, ns: FeatureNamespace, dataset: string, index?: DatasetIndex): Promise<DatasetRows> {
  const current = index ?? (await buildDatasetIndex(store, ns, dataset));
  const data = await loadDatasetFeatures(store, ns, dataset, current);
  const sha = new Map(current.images.map((i) => [i.key, i.sha256]));
  return {
    dataset,
    manifest: data.manifest,
    keys: data.keys,
    labels: data.labels,
    // The shard fingerprint covers every key's hash, so a key in the manifest has one in the index it came from.
    sha256: data.keys.map((k) => sha.get(k) ?? ''),
    features: data.features,
    dim: data.dim,
  };
}
