import type { IngestOutcome, IngestRecord } from '../features/ingest-types.js';
import type { Ingestor } from '../features/ingest.js';
import type { LinkRecord } from '../features/ingest-types.js';
import type { FeatureNamespace } from '../features/namespace.js';
import { imageKeyOfLink, linkKey, linksPrefix, parseImageKey } from '../layout.js';
import type { ObjectStore } from '../store/index.js';
import { readJson } from '../util/json.js';

/**
 * Extracts images that have no cached features the way an upload is extracted, so they are cached (features,
 * link, or an errors/ record) for every later job: locally the Ingestor in this process, in the cloud the
 * extract queue (functions/train). Reports every image's outcome; a bad image is a 'failed' outcome, never a throw.
 */
export interface PendingExtraction {
  extract(records: readonly IngestRecord[], onOutcome: (outcome: IngestOutcome) => void, signal?: AbortSignal): Promise<void>;
}

/** Records per Ingestor call: it reads ahead and writes behind within a call (as the bulk backfill does). */
const RECORDS_PER_CALL = 64;

/** The upload path's Ingestor, called in this process (the local stack: its feature pipeline is already loaded). */
export function inProcessExtraction(ingestor: Pick<Ingestor, 'ingest'>, perCall = RECORDS_PER_CALL): PendingExtraction {
  return {
    async extract(records, onOutcome, signal) {
      for (let i = 0; i < records.length && !signal?.aborted; i += perCall) {
        for (const outcome of await ingestor.ingest(records.slice(i, i + perCall))) onOutcome(outcome);
      }
    },
  };
}

export interface QueuedExtractionOptions {
  store: ObjectStore;
  namespace: FeatureNamespace;
  /** Hands the images to the extract path (the extract queue in the cloud: one S3-event-shaped message each). */
  enqueue: (records: readonly IngestRecord[]) => Promise<void>;
  /** How often the links are looked for. @default 2000 */
  pollMs?: number;
  /** Gives up on the images still without a link after this long ('ExtractionPending'). @default 10 minutes */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The cloud's shape: the images go to the extract path (SQS, the extract function's concurrency), and this
 * waits for their links, the upload path's "done" mark (features or a failure record). Images still without a
 * link when the wait ends (or the signal fires) are reported as 'retry' with code 'ExtractionPending'.
 */
export function queuedExtraction(options: QueuedExtractionOptions): PendingExtraction {
  const { store, namespace, pollMs = 2000, maxWaitMs = 10 * 60 * 1000 } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    async extract(records, onOutcome, signal) {
      await options.enqueue(records);
      const waiting = new Map(records.map((r) => [r.key, r]));
      const until = Date.now() + maxWaitMs;
      while (waiting.size > 0 && Date.now() < until && !signal?.aborted) {
        await sleep(pollMs);
        // One listing per dataset per poll; only the links that appeared are read.
        const listed = new Set<string>();
        for (const dataset of new Set([...waiting.keys()].map((key) => parseImageKey(key)?.dataset ?? ''))) {
          if (dataset) for await (const info of store.listAll(linksPrefix(namespace, dataset))) listed.add(imageKeyOfLink(namespace, info.key));
        }
        for (const record of [...waiting.values()].filter((r) => listed.has(r.key))) {
          const link = await readJson<LinkRecord>(store, linkKey(namespace, record.key));
          // A link of older bytes (another ETag) is not this upload's: keep waiting for the new one.
          if (!link || (record.etag !== undefined && link.etag !== undefined && link.etag !== record.etag)) continue;
          waiting.delete(record.key);
          onOutcome(
            link.status === 'ok'
              ? { key: record.key, status: 'extracted', sha256: link.sha256 }
              : { key: record.key, status: 'failed', sha256: link.sha256, code: link.code, reason: link.reason },
          );
        }
      }
      for (const record of waiting.values()) {
        onOutcome({ key: record.key, status: 'retry', code: 'ExtractionPending', reason: 'the extract path had not finished this image when the job stopped waiting; POST /predict again to include it' });
      }
    },
  };
}
