import { randomUUID } from 'node:crypto';
import { HeadstartError, InvalidArgumentError } from '../errors.js';
import { encodeSafetensors } from '../features/format/safetensors.js';
import type { LinkRecord } from '../features/ingest.js';
import { featureKey, imageKey as layoutImageKey, linkKey, validateDatasetName } from '../layout.js';
import { sha256Hex } from '../util/hash.js';
import type { FeatureNamespace } from '../features/namespace.js';
import { sniffImageFormat } from '../image/format.js';
import type { ObjectStore } from '../store/index.js';

/**
 * The review queue: images a prediction was not sure enough about (or that a caller asked a person to
 * check), kept with what the model said until someone labels or discards them. Layout:
 * `reviews/<dataset>/<uuid>.json` (the record, written last) and `reviews/<dataset>/<uuid>.image` (the
 * bytes). A review id is `<dataset>~<uuid>`: '~' is in no dataset name, so the id alone finds the files.
 */
export const REVIEWS_PREFIX = 'reviews/';

export interface ReviewPrediction {
  label: string;
  score: number;
}

export interface ReviewRecord {
  id: string;
  dataset: string;
  /** Why it was kept: the caller asked (`review=true`), or the top score was under `minConfidence`. */
  reason: 'requested' | 'lowConfidence';
  predictions: ReviewPrediction[];
  model: string;
  head?: string;
  minConfidence?: number;
  sha256: string;
  /** The image's file extension from its bytes ('jpg', 'png', …), used when it is moved into the dataset. */
  format: string;
  size: number;
  createdAt: string;
  /** The feature namespace the image's vector was cached under when it was kept (absent: none was). */
  namespace?: FeatureNamespace;
}

export class ReviewNotFoundError extends HeadstartError {
  constructor(id: string) {
    super('ReviewNotFound', `No review '${id}': GET /reviews?dataset=<name> lists the waiting ones (a labelled or discarded review is gone).`);
  }
}

const UUID = /^[0-9a-f]{32}$/;
/** A class folder: one path segment, no leading dot, no control characters (as POST /uploads). */
const LABEL = /^[^./\\\x00-\x1f][^/\\\x00-\x1f]{0,254}$/;

function parseId(id: string): { dataset: string; uuid: string } {
  const at = id.lastIndexOf('~');
  const uuid = id.slice(at + 1);
  if (at <= 0 || !UUID.test(uuid)) throw new ReviewNotFoundError(id);
  try {
    return { dataset: validateDatasetName(id.slice(0, at)), uuid };
  } catch {
    throw new ReviewNotFoundError(id);
  }
}

const recordKey = (dataset: string, uuid: string) => `${REVIEWS_PREFIX}${dataset}/${uuid}.json`;
const imageKey = (dataset: string, uuid: string) => `${REVIEWS_PREFIX}${dataset}/${uuid}.image`;

export interface KeepForReview {
  dataset: string;
  bytes: Uint8Array;
  reason: ReviewRecord['reason'];
  predictions: ReviewPrediction[];
  model: string;
  head?: string;
  minConfidence?: number;
  /** The image's feature vector, cached now (content-addressed, as extraction would) so a labelled review trains at once. */
  features?: { namespace: FeatureNamespace; vector: Float32Array; metadata: Record<string, string> };
}

/** Stores an image and its prediction for a person to label; the record is written after the bytes. */
export async function keepForReview(store: ObjectStore, entry: KeepForReview): Promise<ReviewRecord> {
  const dataset = validateDatasetName(entry.dataset);
  const uuid = randomUUID().replace(/-/g, '');
  const format = sniffImageFormat(entry.bytes) ?? 'bin';
  const record: ReviewRecord = {
    id: `${dataset}~${uuid}`,
    dataset,
    reason: entry.reason,
    predictions: entry.predictions,
    model: entry.model,
    ...(entry.head ? { head: entry.head } : {}),
    ...(entry.minConfidence !== undefined ? { minConfidence: entry.minConfidence } : {}),
    sha256: sha256Hex(entry.bytes),
    format: format === 'jpeg' ? 'jpg' : format,
    size: entry.bytes.length,
    createdAt: new Date().toISOString(),
    ...(entry.features ? { namespace: entry.features.namespace } : {}),
  };
  if (entry.features) {
    const key = featureKey(entry.features.namespace, record.sha256);
    const { vector, metadata } = entry.features;
    if (!(await store.exists(key))) await store.put(key, encodeSafetensors({ features: { dtype: 'F32', shape: [vector.length], data: vector } }, metadata), { contentType: 'application/octet-stream' });
  }
  await store.put(imageKey(dataset, uuid), Buffer.from(entry.bytes), { contentType: 'application/octet-stream' });
  await store.put(recordKey(dataset, uuid), JSON.stringify(record), { contentType: 'application/json' });
  return record;
}

/** The waiting reviews of a dataset, oldest first. */
export async function listReviews(store: ObjectStore, dataset: string): Promise<ReviewRecord[]> {
  const records: ReviewRecord[] = [];
  for await (const info of store.listAll(`${REVIEWS_PREFIX}${validateDatasetName(dataset)}/`)) {
    if (!info.key.endsWith('.json')) continue;
    try {
      records.push(JSON.parse((await store.get(info.key)).toString('utf8')) as ReviewRecord);
    } catch (error) {
      // Labelled or discarded between the listing and the read.
      if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
    }
  }
  return records.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

async function readReview(store: ObjectStore, id: string): Promise<{ record: ReviewRecord; uuid: string }> {
  const { dataset, uuid } = parseId(id);
  try {
    return { record: JSON.parse((await store.get(recordKey(dataset, uuid))).toString('utf8')) as ReviewRecord, uuid };
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') throw new ReviewNotFoundError(id);
    throw error;
  }
}

/**
 * Labels a review: its image becomes `images/<dataset>/<label>/review-<uuid>.<format>` (an upload like any
 * other: the extract function links it to its cached features, and the next training run has it), then the
 * review is removed, record first, so a crash in between leaves the image trained on and nothing waiting.
 * With the features kept at review time, the image's link is written here too: trainable at once.
 */
export async function acceptReview(store: ObjectStore, id: string, label: unknown): Promise<{ key: string; review: ReviewRecord }> {
  if (typeof label !== 'string' || !LABEL.test(label) || label === '_unlabelled') {
    throw new InvalidArgumentError(`'label' must be the class folder to file the image under (one path segment, no leading '.', not '_unlabelled'), got ${JSON.stringify(label)}.`);
  }
  const { record, uuid } = await readReview(store, id);
  const key = layoutImageKey(record.dataset, label, `review-${uuid}.${record.format}`);
  await store.put(key, await store.get(imageKey(record.dataset, uuid)));
  if (record.namespace && (await store.exists(featureKey(record.namespace, record.sha256)))) {
    // The link extraction would write: the dataset counts the image as extracted now, not after the event.
    const link: LinkRecord = { key, sha256: record.sha256, etag: (await store.head(key))?.etag, status: 'ok' };
    await store.put(linkKey(record.namespace, key), JSON.stringify(link), { contentType: 'application/json' });
  }
  await store.delete(recordKey(record.dataset, uuid));
  await store.delete(imageKey(record.dataset, uuid));
  return { key, review: record };
}

/** Discards a review and its image. */
export async function discardReview(store: ObjectStore, id: string): Promise<ReviewRecord> {
  const { record, uuid } = await readReview(store, id);
  await store.delete(recordKey(record.dataset, uuid));
  await store.delete(imageKey(record.dataset, uuid));
  return record;
}
