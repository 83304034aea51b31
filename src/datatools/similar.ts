import { forgetBadFeatures, readLinkedFeature } from '../features/links.js';
import type { LinkRecord } from '../features/ingest.js';
import type { FeatureNamespace } from '../features/namespace.js';
import type { DatasetFeatures } from '../features/shards.js';
import { linkKey } from '../layout.js';
import type { ObjectStore } from '../store/index.js';
import { nearestRows, normalizeRows } from './vectors.js';

/** Most neighbours one request may ask for. */
export const MAX_SIMILAR_K = 100;

/**
 * A cosine at or above this is the query image itself: the same bytes through the same model give the
 * same vector, and distinct images of the measured datasets stay below 0.9999 (find-issues.ts).
 */
export const SELF_COSINE = 1 - 1e-5;

export interface SimilarImage {
  key: string;
  label: string;
  score: number;
}

/**
 * The `k` images of a dataset most similar to `query` (a raw feature vector of the dataset's namespace),
 * by cosine, best first; exact search, one pass over the dataset's [N, D] rows. The query image is never
 * its own neighbour: the row with key `selfKey`, and any row whose cosine says it is the same picture
 * (same bytes under another name count as the same image), are skipped.
 *
 * Exact search costs N×D multiply-adds per query, one pass over the raw rows (docs/benchmarks.md has the times);
 * an approximate index (HNSW, IVF-PQ) pays once a dataset is in the millions or queries come in bulk.
 */
export function similarImages(data: Pick<DatasetFeatures, 'features' | 'dim' | 'keys' | 'labels'>, query: Float32Array, k: number, selfKey?: string): SimilarImage[] {
  const self = selfKey === undefined ? -1 : data.keys.indexOf(selfKey);
  // Ask for a few extra: rows that turn out to be the query itself are dropped afterwards.
  const found = nearestRows(data.features, data.dim, normalizeRows(query, data.dim), k + 4, (row) => row === self, false);
  return found
    .filter((n) => n.score < SELF_COSINE)
    .slice(0, k)
    .map((n) => ({ key: data.keys[n.row]!, label: data.labels[n.row]!, score: n.score }));
}

/**
 * The cached feature vector of an extracted image key (through its link), else undefined (not extracted, or
 * failed, or its feature is bad: then the image counts as pending again, and the caller embeds its bytes).
 */
export async function cachedImageFeatures(store: ObjectStore, ns: FeatureNamespace, key: string): Promise<Float32Array | undefined> {
  let link: LinkRecord;
  try {
    link = JSON.parse((await store.get(linkKey(ns, key))).toString('utf8')) as LinkRecord;
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
    throw error;
  }
  if (link.status !== 'ok') return undefined;
  const checked = await readLinkedFeature(store, ns, link);
  if (checked.ok) return checked.features;
  await forgetBadFeatures(store, ns, [checked.problem]);
  return undefined;
}
