import type { ObjectInfo, ObjectStore } from '../store/index.js';
import { mapLimit } from '../util/concurrency.js';
import type { LinkRecord } from './ingest.js';
import { datasetPrefix, imageKeyOfLink, linksPrefix, parseImageKey } from '../layout.js';
import { linkIsOutdated } from './links.js';
import { type FeatureNamespace, namespaceId } from './namespace.js';
import { getJson } from '../util/json.js';

export type ImageStatus = 'extracted' | 'failed' | 'pending';

export interface IndexedImage {
  key: string;
  label: string;
  size: number;
  status: ImageStatus;
  sha256?: string;
  /** The digest the link recorded of the image's feature (absent in links older than digests). */
  digest?: string;
  code?: string;
  reason?: string;
}

export interface LabelCounts {
  images: number;
  extracted: number;
  failed: number;
  pending: number;
}

export interface DatasetIndex {
  dataset: string;
  namespace: string;
  labels: Record<string, LabelCounts>;
  totals: LabelCounts;
  images: IndexedImage[];
}

/**
 * What the bucket knows about a dataset under one feature namespace: every image under
 * `images/<dataset>/<label>/`, its label, and whether its features exist, failed (and why) or are pending.
 * An image re-uploaded after its link was written counts as pending until it is extracted again.
 */
export async function buildDatasetIndex(store: ObjectStore, ns: FeatureNamespace, dataset: string): Promise<DatasetIndex> {
  const images: ObjectInfo[] = [];
  for await (const info of store.listAll(datasetPrefix(dataset))) {
    if (parseImageKey(info.key)) images.push(info);
  }
  const linkInfos = new Map<string, ObjectInfo>();
  for await (const info of store.listAll(linksPrefix(ns, dataset))) linkInfos.set(imageKeyOfLink(ns, info.key), info);
  const indexed = await mapLimit(images, 16, async (image): Promise<IndexedImage> => {
    const label = parseImageKey(image.key)!.label;
    const linkInfo = linkInfos.get(image.key);
    const base = { key: image.key, label, size: image.size };
    if (!linkInfo) return { ...base, status: 'pending' };
    const link = await getJson<LinkRecord>(store, linkInfo.key);
    if (linkIsOutdated(image, linkInfo, link)) return { ...base, status: 'pending' };
    return link.status === 'ok'
      ? { ...base, status: 'extracted', sha256: link.sha256, ...(link.digest ? { digest: link.digest } : {}) }
      : { ...base, status: 'failed', sha256: link.sha256, code: link.code, reason: link.reason };
  });
  const labels: Record<string, LabelCounts> = {};
  const totals: LabelCounts = { images: 0, extracted: 0, failed: 0, pending: 0 };
  for (const image of indexed) {
    const counts = (labels[image.label] ??= { images: 0, extracted: 0, failed: 0, pending: 0 });
    for (const c of [counts, totals]) {
      c.images += 1;
      c[image.status] += 1;
    }
  }
  return { dataset, namespace: namespaceId(ns), labels, totals, images: indexed };
}

