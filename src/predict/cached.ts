import type { LinkRecord } from '../features/ingest-types.js';
import { linkIsOutdated, linkIsStale } from '../features/links.js';
import type { FeatureNamespace } from '../features/namespace.js';
import { readBuiltShards } from '../features/shards.js';
import { imageKeyOfLink, linksPrefix } from '../layout.js';
import type { ObjectInfo, ObjectStore } from '../store/index.js';
import { mapLimit } from '../util/concurrency.js';
import { getJson } from '../util/json.js';

/** Where one image's features stand in the cache. */
export type CacheState =
  | { status: 'cached'; sha256?: string; vector?: Float32Array }
  | { status: 'failed'; code?: string; reason?: string }
  | { status: 'pending' };

/** Links read at once. */
const LINK_READS = 64;

/**
 * A link written this little before a shard build may not have been in the index the build read (S3 keeps
 * Last-Modified to the second, and the build's clock and the store's differ a little): such rows are read
 * from their own files instead.
 */
export const CLOCK_MARGIN_MS = 2000;

/**
 * The cache state of each image of one dataset, the way the upload path records it (links), read as cheaply as it
 * can be: the links are listed; an image whose row is in the dataset's built shards (a head trained on it) and
 * whose link has not changed since the build takes its vector from the shard (no per-image read at all); every
 * other linked image costs one read of its link (a re-uploaded image's link is outdated: pending again).
 */
export async function cacheStates(store: ObjectStore, ns: FeatureNamespace, dataset: string, images: readonly ObjectInfo[]): Promise<Map<string, CacheState>> {
  const links = new Map<string, ObjectInfo>();
  for await (const info of store.listAll(linksPrefix(ns, dataset))) links.set(imageKeyOfLink(ns, info.key), info);
  const states = new Map<string, CacheState>();
  const shards = links.size > 0 ? await readBuiltShards(store, ns, dataset).catch(() => undefined) : undefined;
  if (shards) {
    const builtAt = Date.parse(shards.manifest.builtAt) - CLOCK_MARGIN_MS;
    const rowOf = new Map(shards.keys.map((key, row) => [key, row]));
    for (const image of images) {
      const row = rowOf.get(image.key);
      const link = links.get(image.key);
      if (row === undefined || !link?.lastModified || link.lastModified.getTime() > builtAt || linkIsStale(image, link)) continue;
      states.set(image.key, { status: 'cached', vector: shards.features.subarray(row * shards.dim, (row + 1) * shards.dim) });
    }
  }
  const rest = images.filter((image) => !states.has(image.key));
  const read = await mapLimit(rest, LINK_READS, async (image): Promise<CacheState> => {
    const info = links.get(image.key);
    if (!info) return { status: 'pending' };
    const link = await getJson<LinkRecord>(store, info.key);
    if (linkIsOutdated(image, info, link)) return { status: 'pending' };
    return link.status === 'ok' ? { status: 'cached', sha256: link.sha256 } : { status: 'failed', code: link.code, reason: link.reason };
  });
  rest.forEach((image, i) => states.set(image.key, read[i]!));
  return states;
}
