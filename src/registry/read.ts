import { mapLimit } from '../features/concurrency.js';
import type { ObjectStore } from '../store/index.js';
import { CorruptHeadError, HeadNotFoundError } from './errors.js';
import { HEAD_FILES, HEADS_PREFIX, headFileKey, headIdOfPointer, headPrefix, pointerKey, validateHeadId } from './keys.js';
import { readJson } from './store-json.js';
import type { HeadDetails, HeadInfo, HeadMetricsFile, HeadSummary, PublishedPointer } from './types.js';

/** The pointer of a published head; HeadNotFoundError when there is none. */
export async function readPointer(store: ObjectStore, headId: string): Promise<PublishedPointer> {
  const pointer = await readJson<PublishedPointer>(store, pointerKey(validateHeadId(headId)));
  if (!pointer) throw new HeadNotFoundError(headId);
  return pointer;
}

/** A file of a published head; its absence means damage, since the pointer is written after every file. */
export async function readHeadJson<T>(store: ObjectStore, headId: string, file: string): Promise<T> {
  const value = await readJson<T>(store, headFileKey(headId, file));
  if (value === undefined) throw new CorruptHeadError(headId, `${file} is missing`);
  return value;
}

/** Every published head, newest first. Folders without a pointer (a publish in progress or killed) are not heads. */
export async function listHeads(store: ObjectStore): Promise<HeadSummary[]> {
  const ids: string[] = [];
  for await (const info of store.listAll(HEADS_PREFIX)) {
    const id = headIdOfPointer(info.key);
    if (id) ids.push(id);
  }
  // A head deleted between the listing and the read is simply not listed.
  const pointers = await mapLimit(ids, 8, (id) => readJson<PublishedPointer>(store, pointerKey(id)));
  return pointers
    .filter((p): p is PublishedPointer => p !== undefined)
    .map((p) => p.summary)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.headId.localeCompare(b.headId)));
}

/** head.json with metrics.json and the publication time. */
export async function getHead(store: ObjectStore, headId: string): Promise<HeadDetails> {
  const pointer = await readPointer(store, headId);
  const [info, metrics] = await Promise.all([
    readHeadJson<HeadInfo>(store, headId, HEAD_FILES.info),
    readHeadJson<HeadMetricsFile>(store, headId, HEAD_FILES.metrics),
  ]);
  return { ...info, publishedAt: pointer.publishedAt, metrics };
}

/**
 * Unpublishes a head (the pointer goes first, so readers stop seeing it at once), then removes its files.
 * HeadNotFoundError when it is not published.
 */
export async function deleteHead(store: ObjectStore, headId: string): Promise<void> {
  await readPointer(store, headId);
  await store.delete(pointerKey(headId));
  const keys: string[] = [];
  for await (const info of store.listAll(headPrefix(headId))) keys.push(info.key);
  await mapLimit(keys, 8, (key) => store.delete(key));
}
