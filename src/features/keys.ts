import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { type FeatureNamespace, namespaceId } from './namespace.js';

/** The storage layout (DESIGN.md): prefixes are the API. */
export const IMAGES_PREFIX = 'images/';
export const FEATURES_PREFIX = 'features/';
export const ERRORS_PREFIX = 'errors/';
export const UNLABELLED = '_unlabelled';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `features/<model>@<digest>/<layer>/<sha256>.safetensors`: content-addressed, so equal bytes extract once. */
export function featureKey(ns: FeatureNamespace, sha256: string): string {
  return `${FEATURES_PREFIX}${namespaceId(ns)}/${sha256}.safetensors`;
}

/**
 * `features/<ns>/links/<dataset>/<label>/<file>.json`: which content hash an image key had when it was
 * extracted (or why it failed). The dataset index and the shard builder read these instead of hashing images.
 */
export function linkKey(ns: FeatureNamespace, imageKey: string): string {
  return `${FEATURES_PREFIX}${namespaceId(ns)}/links/${imageKey.slice(IMAGES_PREFIX.length)}.json`;
}

/** The image key a link object stands for (inverse of linkKey). */
export function imageKeyOfLink(ns: FeatureNamespace, link: string): string {
  const root = `${FEATURES_PREFIX}${namespaceId(ns)}/links/`;
  return `${IMAGES_PREFIX}${link.slice(root.length).replace(/\.json$/, '')}`;
}

/**
 * True when the image was written after its link: re-uploaded since extraction. S3 keeps Last-Modified
 * to the second, and a link is written after its image, so only a gap over a second means a new upload.
 */
export function linkIsStale(image: { lastModified?: Date }, link: { lastModified?: Date }): boolean {
  return image.lastModified !== undefined && link.lastModified !== undefined && image.lastModified.getTime() > link.lastModified.getTime() + 1000;
}

/**
 * True when a link no longer describes its image: the ETags differ (new bytes), or, for a link without
 * one, the image is newer. A re-upload of the same bytes keeps its ETag, so it is not outdated.
 */
export function linkIsOutdated(image: { lastModified?: Date; etag?: string }, linkInfo: { lastModified?: Date }, link: { etag?: string }): boolean {
  if (link.etag !== undefined && image.etag !== undefined) return link.etag !== image.etag;
  return linkIsStale(image, linkInfo);
}

export function linksPrefix(ns: FeatureNamespace, dataset: string): string {
  return `${FEATURES_PREFIX}${namespaceId(ns)}/links/${dataset}/`;
}

/** `features/<ns>/shards/<dataset>/`: consolidated [N, D] tensors for training reads. */
export function shardPrefix(ns: FeatureNamespace, dataset: string): string {
  return `${FEATURES_PREFIX}${namespaceId(ns)}/shards/${dataset}/`;
}

/** `errors/<sha256>.json`: why an image could not be extracted (a permanent failure, not retried). */
export function errorKey(sha256: string): string {
  return `${ERRORS_PREFIX}${sha256}.json`;
}

export interface ImageKey {
  key: string;
  dataset: string;
  /** The class folder; `_unlabelled` for images only meant for classification. */
  label: string;
  file: string;
}

const SEGMENT = /^[^/]+$/;

/** Parses `images/<dataset>/<label>/<file…>`; undefined for keys outside that layout. */
export function parseImageKey(key: string): ImageKey | undefined {
  if (!key.startsWith(IMAGES_PREFIX)) return undefined;
  const parts = key.slice(IMAGES_PREFIX.length).split('/');
  if (parts.length < 3 || parts.some((p) => p === '')) return undefined;
  const [dataset, label, ...rest] = parts as [string, string, ...string[]];
  return { key, dataset, label, file: rest.join('/') };
}

/** Dataset names are one path segment of letters, digits, '-', '_' and '.'. */
export function validateDatasetName(name: string): string {
  if (!SEGMENT.test(name) || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new InvalidArgumentError(
      `Invalid dataset name '${name}': use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return name;
}
