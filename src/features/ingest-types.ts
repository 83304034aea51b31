import type { FeatureNamespace } from './namespace.js';
import type { ExtractResult } from './pipeline.js';
import type { BatchTiming, StageRecorder } from './stages.js';

/** One object that landed under `images/` (from an S3 event, a listing, or a local walk). */
export interface IngestRecord {
  key: string;
  size?: number;
  /** The object's ETag (from the event or a listing): with the link's, it tells a re-upload of the same bytes. */
  etag?: string;
}

export type IngestStatus = 'extracted' | 'cached' | 'failed' | 'skipped' | 'retry';

export interface IngestOutcome {
  key: string;
  status: IngestStatus;
  sha256?: string;
  /** With `extracted` and `cached`: the digest its link records. */
  digest?: string;
  /** Why it failed (permanent) or must be retried (transient). */
  reason?: string;
  code?: string;
}

/**
 * What `links/<image key>.json` holds: the content hash an image key was extracted from, or why it failed.
 * Readers ignore fields they do not know, and a rewrite keeps them: the record may grow.
 */
export interface LinkRecord {
  key: string;
  sha256: string;
  /** The image's ETag when it was read: the index compares it with the listing's to spot re-uploads. */
  etag?: string;
  status: 'ok' | 'failed';
  /**
   * With `ok`: the SHA-256 of the feature's float32 values (links.ts `featureDigest`), checked on every read.
   * Absent in links written before it existed: those get the checks that need none.
   */
  digest?: string;
  code?: string;
  reason?: string;
}

/**
 * What the Ingestor needs of a feature pipeline: FeaturePipeline is one; a unit test fakes it, so the
 * storage and partial-failure logic is tested without a model.
 */
export interface IngestPipeline {
  /** Every key the Ingestor writes is in this namespace. */
  readonly namespace: FeatureNamespace;
  /** Images per model call: the Ingestor hands the model batches of this size. */
  readonly batchSize: number;
  /** Model batches it infers side by side (its ONNX Runtime sessions). @default 1 */
  readonly sessions?: number;
  /** The `__metadata__` stored with one image's features. */
  metadata(source: string): Record<string, string>;
  /** Features per image, in input order; a bad image is a failed result, never a throw. */
  extract(images: readonly Buffer[], recorder?: StageRecorder): Promise<ExtractResult[]>;
}

export interface IngestOptions {
  /** Images larger than this fail permanently without being downloaded. @default 50 MiB */
  maxImageBytes?: number;
  /** Images read (GET, check) ahead of the model at most. @default 32, or two model batches if more */
  readAhead?: number;
  /** Receives every `ingest` call's per-stage timing and request counts (the bench table, logs). */
  onTiming?: (timing: BatchTiming) => void;
}
