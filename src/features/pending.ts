import type { ObjectInfo, ObjectStore } from '../store/index.js';
import { imageKeyOfLink, linkIsStale, linksPrefix, parseImageKey } from './keys.js';
import type { FeatureNamespace } from './pipeline.js';

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
  const pending = images.filter((image) => {
    const link = links.get(image.key);
    return !link || linkIsStale(image, link);
  });
  return { pending, done: images.length - pending.length };
}
