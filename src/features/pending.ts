import type { ObjectInfo, ObjectStore } from '../store/index.js';
import { mapLimit } from '../util/concurrency.js';
import type { LinkRecord } from './ingest.js';
import { imageKeyOfLink, linksPrefix, parseImageKey } from '../layout.js';
import { linkIsOutdated, linkIsStale } from './links.js';
import type { FeatureNamespace } from './namespace.js';
import { getJson } from '../util/json.js';

/**
 * The images under `prefix` (a dataset or all of `images/`) that have no up-to-date link in this
 * namespace: what a bulk run still has to extract. Two listings, no object reads, so a rerun of a
 * finished backfill costs seconds, not a download of every image.
 */
export async function pendingImages(store: ObjectStore, ns: FeatureNamespace, prefix: string): Promise<{ pending: ObjectInfo[]; done: number }> {
  const images: ObjectInfo[] = [];
  for await (const info of store.listAll(prefix)) if (parseImageKey(info.key)) images.push(info);
  const links = new Map<string, ObjectInfo>();
  const datasets = new Set(images.map((i) => parseImageKey(i.key)!.dataset));
  for (const dataset of datasets) {
    for await (const info of store.listAll(linksPrefix(ns, dataset))) links.set(imageKeyOfLink(ns, info.key), info);
  }
  // Only images written after their link can be outdated: read just those links to compare ETags.
  const outdated = await mapLimit(images, 16, async (image) => {
    const info = links.get(image.key);
    if (!info) return true;
    if (!linkIsStale(image, info)) return false;
    const link = await getJson<LinkRecord>(store, info.key);
    return linkIsOutdated(image, info, link);
  });
  const pending = images.filter((_, i) => outdated[i]);
  return { pending, done: images.length - pending.length };
}
