import { HeadstartError } from '../errors.js';
import { featureKey, linkKey } from '../layout.js';
import { logger } from '../logger.js';
import type { ObjectStore } from '../store/index.js';
import { sha256Hex } from '../util/hash.js';
import { TensorFileFormatError } from './format/errors.js';
import { decodeSafetensors } from './format/safetensors.js';
import type { LinkRecord } from './ingest-types.js';
import type { FeatureNamespace } from './namespace.js';

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

/**
 * The digest a link records of its feature: the SHA-256 of the feature's float32 values as stored
 * (little-endian bytes, the safetensors data section of an F32 file). Of the values, not of the whole file:
 * two writers of the same bytes' features (two keys with equal content, extracted at once) differ only in
 * the header's `source`, and must not make each other's links look corrupt.
 */
/** The safetensors `__metadata__` entry that holds the digest in the feature file itself. */
export const FEATURES_DIGEST = 'features_sha256';

export function featureDigest(features: Float32Array): string {
  return sha256Hex(new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
}

/** What is wrong with one cached feature, and whose it is. */
export interface FeatureProblem {
  /** The feature object. */
  object: string;
  /** The image whose link points at it. */
  image: string;
  kind: 'missing' | 'unreadable' | 'not finite' | 'digest mismatch';
  detail: string;
}

/** Most problems a CorruptFeatureError names; the rest are counted. */
const NAMED_PROBLEMS = 5;

/**
 * Cached features that are missing, unreadable or not what their links recorded. The images are counted as
 * pending again (their links and the bad objects are removed): `POST /backfill` re-extracts them.
 */
export class CorruptFeatureError extends HeadstartError {
  constructor(readonly problems: readonly FeatureProblem[]) {
    const named = problems.slice(0, NAMED_PROBLEMS).map((p) => `${p.object} (the features of ${p.image}) is ${p.kind === 'missing' ? 'missing' : `corrupt: ${p.detail}`}`);
    const more = problems.length > NAMED_PROBLEMS ? `, and ${problems.length - NAMED_PROBLEMS} more` : '';
    super(
      'CorruptFeature',
      `${problems.length === 1 ? 'A cached feature is' : `${problems.length} cached features are`} missing or corrupt: ${named.join('; ')}${more}. ` +
        `${problems.length === 1 ? 'Its image counts' : 'Their images count'} as pending again: POST /backfill re-extracts ${problems.length === 1 ? 'it' : 'them'}, then retry.`,
    );
  }
}

/** A link's feature as read and checked; `problem` instead when it cannot be trusted. */
export type CheckedFeature = { ok: true; features: Float32Array; digest: string } | { ok: false; problem: FeatureProblem };

/**
 * Reads the feature an `ok` link points at and checks it: it exists, decodes, holds finite values, and has the
 * digest its own header and the link recorded. A file and link written before digests existed get every check
 * but those (what can be verified without one).
 */
export async function readLinkedFeature(store: ObjectStore, ns: FeatureNamespace, link: Pick<LinkRecord, 'key' | 'sha256' | 'digest'>): Promise<CheckedFeature> {
  const object = featureKey(ns, link.sha256);
  const problem = (kind: FeatureProblem['kind'], detail: string): CheckedFeature => ({ ok: false, problem: { object, image: link.key, kind, detail } });
  let bytes: Buffer;
  try {
    bytes = await store.get(object);
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') return problem('missing', 'the object does not exist');
    throw error;
  }
  let features: Float32Array | undefined;
  let recorded: string | undefined;
  try {
    const decoded = decodeSafetensors(bytes);
    features = decoded.tensors.features?.data;
    recorded = decoded.metadata[FEATURES_DIGEST];
  } catch (error) {
    if (!(error instanceof TensorFileFormatError)) throw error;
    return problem('unreadable', error.message);
  }
  if (!features || features.length === 0) return problem('unreadable', "it holds no 'features' tensor");
  const bad = features.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return problem('not finite', `value ${bad} is ${features[bad]}`);
  const digest = featureDigest(features);
  if (recorded !== undefined && recorded !== digest) return problem('digest mismatch', `its values' sha256 is ${digest}, its header recorded ${recorded}`);
  if (link.digest !== undefined && link.digest !== digest) return problem('digest mismatch', `its values' sha256 is ${digest}, its link recorded ${link.digest}`);
  return { ok: true, features, digest };
}

/**
 * Makes the images of bad features pending again: removes their links and the bad feature objects, so the
 * dataset counts them as needing extraction and the next backfill (or upload) extracts them afresh.
 */
export async function forgetBadFeatures(store: ObjectStore, ns: FeatureNamespace, problems: readonly FeatureProblem[]): Promise<void> {
  for (const p of problems) logger.warn(`feature cache: ${p.object} (the features of ${p.image}) is ${p.kind}: ${p.detail}; the image counts as pending again`, { ...p });
  const objects = new Set(problems.filter((p) => p.kind !== 'missing').map((p) => p.object));
  await Promise.all([...objects].map((key) => store.delete(key)));
  await Promise.all(problems.map((p) => store.delete(linkKey(ns, p.image))));
}
