import { InvalidArgumentError } from './errors.js';
import { type FeatureNamespace, namespaceId } from './features/namespace.js';

/**
 * The bucket's storage layout (DESIGN.md "Storage layout": prefixes are the API): every prefix and every key
 * headstart reads or writes is built here, so a key's shape is decided once. A key with an empty, '.' or '..'
 * segment is never built: the builders throw InvalidArgumentError naming the segment.
 */
export const PREFIX = {
  /** `images/<dataset>/<label>/<file>`: uploads, in Keras' class-folder convention. */
  images: 'images/',
  /** `features/<model>@<digest>/<layer>/…`: the content-addressed feature cache, its links and shards. */
  features: 'features/',
  /** `models/<kind>/<id>/`: published heads and fine-tuned models (src/registry). */
  models: 'models/',
  /** `jobs/<jobId>.json`, `jobs/<jobId>/checkpoint/`: training jobs. */
  jobs: 'jobs/',
  /** `errors/<sha256>.json`: why an image could not be extracted; `errors/dead-letter/`: events that failed for good. */
  errors: 'errors/',
  /** `weights/<model>/<top|notop>/`: converted weights and their index, for the functions' caches. */
  weights: 'weights/',
  /** `predictions/<jobId>/results.jsonl|csv`: batch prediction results. */
  predictions: 'predictions/',
  /** Planned: `reviews/<dataset>/`, images waiting for a person's label. */
  reviews: 'reviews/',
  /** `thumbnails/<size>/<dataset>/<label>/<file>.jpg`: small JPEGs of images/ (GET /thumbnails), disposable. */
  thumbnails: 'thumbnails/',
  /** `exports/<id>/<format>/<version>.zip`: built export bundles (GET /models/{id}/export), derived and disposable. */
  exports: 'exports/',
} as const;

/** The label folder of images only meant for classification. */
export const UNLABELLED = '_unlabelled';

/** Events the local queue gave up on (local/s3). */
export const DEAD_LETTER_PREFIX = `${PREFIX.errors}dead-letter/`;

/** `models/heads/`, `models/finetuned/`: one folder per published model of each kind. */
export const MODEL_PREFIX = { heads: `${PREFIX.models}heads/`, finetuned: `${PREFIX.models}finetuned/` } as const;

/** Each '/'-separated segment of `path`, checked: none empty, '.' or '..'. Returns `path`. */
export function safePath(path: string, what = 'key'): string {
  for (const segment of path.split('/')) safeSegment(segment, what, path);
  return path;
}

/** One path segment: non-empty, not '.' or '..', no '/'. Returns it. */
export function safeSegment(segment: string, what: string, whole = segment): string {
  if (typeof segment !== 'string' || segment === '' || segment === '.' || segment === '..' || segment.includes('/')) {
    const which = typeof segment !== 'string' ? `a ${typeof segment}` : segment === '' ? 'an empty segment' : `the segment '${segment}'`;
    throw new InvalidArgumentError(`Invalid ${what} ${JSON.stringify(whole)}: it has ${which}; every path segment must be non-empty and not '.' or '..'.`);
  }
  return segment;
}

// images/

/** `images/<dataset>/`. */
export function datasetPrefix(dataset: string): string {
  return `${PREFIX.images}${safeSegment(dataset, 'dataset name')}/`;
}

/** `images/<dataset>/<label>/<file>`; `file` may have folders of its own. */
export function imageKey(dataset: string, label: string, file: string): string {
  return `${datasetPrefix(dataset)}${safeSegment(label, 'label')}/${safePath(file, 'file name')}`;
}

export interface ImageKey {
  key: string;
  dataset: string;
  /** The class folder; `_unlabelled` for images only meant for classification. */
  label: string;
  file: string;
}

/** Parses `images/<dataset>/<label>/<file…>`; undefined for keys outside that layout (an empty, '.' or '..' segment included). */
export function parseImageKey(key: string): ImageKey | undefined {
  if (!key.startsWith(PREFIX.images)) return undefined;
  const parts = key.slice(PREFIX.images.length).split('/');
  if (parts.length < 3 || parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  const [dataset, label, ...rest] = parts as [string, string, ...string[]];
  return { key, dataset, label, file: rest.join('/') };
}

/** Dataset names are one path segment of letters, digits, '-', '_' and '.'. */
export function validateDatasetName(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new InvalidArgumentError(`Invalid dataset name '${name}': use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit.`);
  }
  return name;
}

// features/ and errors/

/** `features/<model>@<digest>/<layer>/`: one namespace of the cache. */
export function namespacePrefix(ns: FeatureNamespace): string {
  return `${PREFIX.features}${safePath(namespaceId(ns), 'feature namespace')}/`;
}

/** `features/<model>@<digest>/<layer>/<sha256>.safetensors`: content-addressed, so equal bytes extract once. */
export function featureKey(ns: FeatureNamespace, sha256: string): string {
  return `${namespacePrefix(ns)}${safeSegment(sha256, 'content hash')}.safetensors`;
}

/**
 * `features/<ns>/links/<dataset>/<label>/<file>.json`: which content hash an image key had when it was
 * extracted (or why it failed). The dataset index and the shard builder read these instead of hashing images.
 */
export function linkKey(ns: FeatureNamespace, image: string): string {
  if (!image.startsWith(PREFIX.images)) throw new InvalidArgumentError(`Invalid image key ${JSON.stringify(image)}: it must be under ${PREFIX.images}.`);
  return `${namespacePrefix(ns)}links/${safePath(image.slice(PREFIX.images.length), 'image key')}.json`;
}

/** The image key a link object stands for (inverse of linkKey). */
export function imageKeyOfLink(ns: FeatureNamespace, link: string): string {
  const root = `${namespacePrefix(ns)}links/`;
  return `${PREFIX.images}${link.slice(root.length).replace(/\.json$/, '')}`;
}

/** `features/<ns>/links/<dataset>/`. */
export function linksPrefix(ns: FeatureNamespace, dataset: string): string {
  return `${namespacePrefix(ns)}links/${safeSegment(dataset, 'dataset name')}/`;
}

/** `features/<ns>/shards/<dataset>/`: consolidated [N, D] tensors for training reads. */
export function shardPrefix(ns: FeatureNamespace, dataset: string): string {
  return `${namespacePrefix(ns)}shards/${safeSegment(dataset, 'dataset name')}/`;
}

/** `errors/<sha256>.json`: why an image could not be extracted (a permanent failure, not retried). */
export function errorKey(sha256: string): string {
  return `${PREFIX.errors}${safeSegment(sha256, 'content hash')}.json`;
}

// models/

/** `models/<kind>/<id>/` for a kind's prefix (MODEL_PREFIX); the kind's id rule is the registry's. */
export function modelPrefix(kindPrefix: string, id: string): string {
  return `${kindPrefix}${safeSegment(id, 'model id')}/`;
}

// jobs/

/** `jobs/<jobId>.json` (the id rule is the jobs module's). */
export function jobKey(jobId: string): string {
  return `${PREFIX.jobs}${safeSegment(jobId, 'job id')}.json`;
}

/** `jobs/<jobId>/checkpoint/`: the state a stopped fine-tuning job resumes from. */
export function checkpointPrefix(jobId: string): string {
  return `${PREFIX.jobs}${safeSegment(jobId, 'job id')}/checkpoint/`;
}

// weights/

/** `weights/<model>/<top|notop>/`: what `headstart weights push` uploads and the functions copy into their cache. */
export function weightsPrefix(model: string, variant: 'top' | 'notop'): string {
  return `${PREFIX.weights}${safeSegment(model, 'model id')}/${variant}/`;
}

/** `weights/<model>/<top|notop>/index.json`: the weights' digest and files. */
export function weightsIndexKey(model: string, variant: 'top' | 'notop'): string {
  return `${weightsPrefix(model, variant)}index.json`;
}

// Planned prefixes (DESIGN.md): their layout is fixed here before the features that write them land; thumbnails/ is written.

/** `predictions/<jobId>/`: a batch prediction job's results. */
export function predictionsPrefix(jobId: string): string {
  return `${PREFIX.predictions}${safeSegment(jobId, 'job id')}/`;
}

/** `predictions/<jobId>/results.jsonl` (one JSON object per image) or `results.csv`. */
export function predictionResultsKey(jobId: string, format: 'jsonl' | 'csv'): string {
  return `${predictionsPrefix(jobId)}results.${format}`;
}

/** `reviews/<dataset>/`: images of a dataset waiting for a person's label. */
export function reviewsPrefix(dataset: string): string {
  return `${PREFIX.reviews}${safeSegment(dataset, 'dataset name')}/`;
}

/** `thumbnails/<size>/<dataset>/<label>/<file>.jpg`: the `size`-pixel JPEG of an image key, derived and disposable. */
export function thumbnailKey(image: string, size: number): string {
  if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError(`Thumbnail size must be a positive integer, got ${size}.`);
  if (!image.startsWith(PREFIX.images)) throw new InvalidArgumentError(`Invalid image key ${JSON.stringify(image)}: it must be under ${PREFIX.images}.`);
  return `${PREFIX.thumbnails}${size}/${safePath(image.slice(PREFIX.images.length), 'image key')}.jpg`;
}

// exports/

/**
 * `exports/<id>/<format>/<version>.zip`: a built export bundle. `version` changes whenever what the bundle is built
 * from does (the model's registry pointer or weights, the exporter), so a key is written once and never goes stale.
 */
export function exportKey(id: string, format: string, version: string): string {
  return `${PREFIX.exports}${safeSegment(id, 'model id')}/${safeSegment(format, 'export format')}/${safeSegment(version, 'export version')}.zip`;
}
