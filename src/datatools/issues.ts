import type { FeatureNamespace } from '../features/namespace.js';
import { namespaceId } from '../features/namespace.js';
import type { ObjectStore } from '../store/index.js';
import { loadDatasetRows } from './dataset-rows.js';
import { DatasetTooLargeError } from './errors.js';
import { findIssues, NEAR_DUPLICATE_COSINE, OUTLIER_NEIGHBOURS, type FoundIssues } from './find-issues.js';
import { headOutOfFold } from './head-probabilities.js';
import { issuesKey } from './keys.js';
import { defaultFolds } from './probe.js';

/** Images a request computes issues for synchronously (≈ seconds on one Lambda core; docs/benchmarks.md). */
export const SYNC_ISSUE_LIMIT = 10_000;

/**
 * The synchronous limit in effect: HEADSTART_SYNC_ISSUE_LIMIT when it is a positive integer (tests lower it),
 * else SYNC_ISSUE_LIMIT. Above it GET /datasets/{name}/issues answers 202 with a job.
 */
export function syncIssueLimit(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.HEADSTART_SYNC_ISSUE_LIMIT);
  return Number.isInteger(value) && value > 0 ? value : SYNC_ISSUE_LIMIT;
}

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
    /** Whose out-of-fold probabilities the label issues come from: `head:<id>` (a head trained on exactly these images) or `probe`. */
    labelIssuesSource: string;
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

/** What a dataset's issues would be computed from: its cache key, its size, the cached answer if there is one. */
export interface IssuesPlan {
  /** `features/<ns>/issues/…` (src/datatools/keys.ts): where the answer is cached, keyed by the shard fingerprints. */
  key: string;
  /** Extracted images the issues are computed over. */
  images: number;
  /** The cached answer, when the dataset (and `against`, and the head) are unchanged since it was computed. */
  cached?: DatasetIssues;
  /** Computes the answer from the rows already read and writes it to `key`. */
  compute(): Promise<DatasetIssues>;
}

/**
 * Reads a dataset's rows (and `against`'s) and finds its cache key and cached answer, without computing:
 * the route decides from `images` whether to compute now or start a job (src/datatools/issues-job.ts).
 */
export async function planDatasetIssues(store: ObjectStore, ns: FeatureNamespace, dataset: string, options: Pick<DatasetIssuesOptions, 'against'> = {}): Promise<IssuesPlan> {
  const rows = await loadDatasetRows(store, ns, dataset);
  const other = options.against !== undefined ? await loadDatasetRows(store, ns, options.against) : undefined;
  // A head trained on exactly these images has out-of-fold predictions already: no probe to run.
  const head = await headOutOfFold(store, ns, dataset, rows);
  const key = issuesKey(ns, dataset, rows.manifest.fingerprint, other && { dataset: other.dataset, fingerprint: other.manifest.fingerprint }, head?.headId);
  const cached = await readCached(store, key);
  return {
    key,
    images: rows.keys.length,
    ...(cached ? { cached } : {}),
    async compute() {
      const started = performance.now();
      const found = await findIssues(rows, { against: other, outOfFold: head?.oof });
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
          labelIssues: head
            ? `confident learning over the calibrated ${head.folds}-fold out-of-fold probabilities of head '${head.headId}' (its model selection's)`
            : `confident learning over ${defaultFolds(rows.keys.length)}-fold out-of-fold probabilities of a linear probe`,
          labelIssuesSource: head ? `head:${head.headId}` : 'probe',
        },
        ...found,
        computedAt: new Date().toISOString(),
        computeMs: Math.round(performance.now() - started),
        cached: false,
      };
      await store.put(key, JSON.stringify(issues), { contentType: 'application/json' });
      return issues;
    },
  };
}

/**
 * A dataset's issues under the service's namespace: read from the cache when the dataset (and `against`)
 * are unchanged since they were computed, else computed from the cached features and stored. Label issues
 * come from the newest head trained on exactly these images when there is one (its out-of-fold predictions,
 * src/datatools/head-probabilities.ts), else from a k-fold probe; `method.labelIssuesSource` says which.
 */
export async function datasetIssues(store: ObjectStore, ns: FeatureNamespace, dataset: string, options: DatasetIssuesOptions = {}): Promise<DatasetIssues> {
  const plan = await planDatasetIssues(store, ns, dataset, options);
  if (plan.cached) return plan.cached;
  const limit = options.maxImages ?? SYNC_ISSUE_LIMIT;
  if (plan.images > limit) throw new DatasetTooLargeError(dataset, plan.images, limit);
  return plan.compute();
}
