/** What a pointer records of each file, so a reader can tell a damaged or swapped file. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** What every kind's summary has: the registry sorts listings by it and tells a job's own model from another's. */
export interface SummaryBase {
  createdAt: string;
  jobId: string | null;
}

/**
 * `_published.json`, written last, for every kind: the summary a listing shows (one small read per model)
 * and the size and digest of every file. Pointers written before `kind`/`id` existed have `headId` or
 * `modelId` instead; readers take the id from the key, so both read alike.
 */
export interface PublishedPointer<S extends SummaryBase = SummaryBase> {
  kind: 'head' | 'finetuned';
  id: string;
  publishedAt: string;
  summary: S;
  files: Record<string, FileDigest>;
}
