import type { FeatureNamespace } from '../features/namespace.js';
import { namespaceId } from '../features/namespace.js';
import type { ObjectStore } from '../store/index.js';
import { loadDatasetRows } from './dataset-rows.js';
import { DatasetTooLargeError } from './errors.js';
import { findIssues, NEAR_DUPLICATE_COSINE, OUTLIER_NEIGHBOURS, type FoundIssues } from './find-issues.js';
import { issuesKey } from './keys.js';
import { defaultFolds } from './probe.js';

/** Images a request computes issues for synchronously (≈ seconds on one Lambda core; docs/benchmarks.md). */
export const SYNC_ISSUE_LIMIT = 10_000;

/** `GET /datasets/{name}/issues`: what was found, and from what. */
export interface DatasetIssues extends FoundIssues {
  dataset: string;
  against?: string;
  namespace: string;
  images: number;
  /** The shard fingerprint(s) the answer was computed from: it stays valid until the dataset changes. */
  fingerprint: string;
  againstFingerprint?: string;
  method: {
    nearDuplicateCosine: number;
    outlierNeighbours: number;
    labelIssues: string;
  };
  computedAt: string;
  computeMs: number;
  /** True when this answer was read from the cache rather than computed now. */
  cached: boolean;
}

export interface DatasetIssuesOptions {
  against?: string;
  /** @default SYNC_ISSUE_LIMIT; Infinity for offline runs (the CLI). */
  maxImages?: number;
}

async function readCached(store: ObjectStore, key: string): Promise<DatasetIssues | undefined> {
  try {
    return { ...(JSON.parse((await store.get(key)).toString('utf8')) as DatasetIssues), cached: true };
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
    throw error;
  }
}

/**
 * A dataset's issues under the service's namespace: read from the cache when the dataset (and `against`)
 * are unchanged since they were computed, else computed from the cached features and stored.
 */
export async function datasetIssues(store: ObjectStore, ns: FeatureNamespace, dataset: string, options: DatasetIssuesOptions = {}): Promise<DatasetIssues> {
  const rows = await loadDatasetRows(store, ns, dataset);
  const other = options.against !== undefined ? await loadDatasetRows(store, ns, options.against) : undefined;
  const key = issuesKey(ns, dataset, rows.manifest.fingerprint, other && { dataset: other.dataset, fingerprint: other.manifest.fingerprint });
  const cached = await readCached(store, key);
  if (cached) return cached;
  const limit = options.maxImages ?? SYNC_ISSUE_LIMIT;
  if (rows.keys.length > limit) throw new DatasetTooLargeError(dataset, rows.keys.length, limit);
  const started = performance.now();
  const found = await findIssues(rows, { against: other });
  const issues: DatasetIssues = {
    dataset,
    ...(other ? { against: other.dataset } : {}),
    namespace: namespaceId(ns),
    images: rows.keys.length,
    fingerprint: rows.manifest.fingerprint,
    ...(other ? { againstFingerprint: other.manifest.fingerprint } : {}),
    method: {
      nearDuplicateCosine: NEAR_DUPLICATE_COSINE,
      outlierNeighbours: OUTLIER_NEIGHBOURS,
      labelIssues: `confident learning over ${defaultFolds(rows.keys.length)}-fold out-of-fold probabilities of a linear probe`,
    },
    ...found,
    computedAt: new Date().toISOString(),
    computeMs: Math.round(performance.now() - started),
    cached: false,
  };
  await store.put(key, JSON.stringify(issues), { contentType: 'application/json' });
  return issues;
}
