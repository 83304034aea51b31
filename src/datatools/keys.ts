import type { FeatureNamespace } from '../features/namespace.js';
import { namespacePrefix, safeSegment } from '../layout.js';

/** Bumped when the issue finders change what they report, so a cached answer of the old rules is never served. */
export const ISSUES_VERSION = 'v2';

/**
 * `features/<ns>/issues/<dataset>/<version>-<fingerprint>[-vs-<other>-<fingerprint>][-head-<headId>].json`: a
 * dataset's issues, keyed by the shard fingerprints they were computed from (and the head whose out-of-fold
 * predictions gave the label issues), so a changed dataset, `against` dataset or a newer head is a new key and a
 * stale answer is never read. Derived data: deleting it costs a recomputation.
 */
export function issuesKey(ns: FeatureNamespace, dataset: string, fingerprint: string, against?: { dataset: string; fingerprint: string }, headId?: string): string {
  const vs = against ? `-vs-${against.dataset}-${against.fingerprint.slice(0, 16)}` : '';
  const head = headId === undefined ? '' : `-head-${safeSegment(headId, 'head id')}`;
  return `${namespacePrefix(ns)}issues/${safeSegment(dataset, 'dataset name')}/${ISSUES_VERSION}-${fingerprint.slice(0, 16)}${vs}${head}.json`;
}

/**
 * `<issuesKey without .json>.job.json`: `{ jobId }` of the job computing that answer (GET /datasets/{name}/issues
 * above the synchronous limit), so a second request while it runs gets the same job. Beside the answer, so a
 * changed dataset (a new key) never finds an old job.
 */
export function issuesJobPointerKey(cacheKey: string): string {
  return cacheKey.replace(/\.json$/, '.job.json');
}
