import type { ObjectStore } from '../store/index.js';
import { HEADS } from './kinds.js';
import { deleteModel, listModels, readModelJson, readModelPointer } from './published.js';
import type { HeadDetails, HeadInfo, HeadMetricsFile, HeadSummary, PublishedPointer } from './types.js';

// The head kind's reads: no model code, so the API lists, shows and deletes heads without TF.js.

/** The pointer of a published head; HeadNotFoundError when there is none. */
export function readPointer(store: ObjectStore, headId: string): Promise<PublishedPointer> {
  return readModelPointer<HeadSummary>(store, HEADS, headId);
}

/** Every published head, newest first. Folders without a pointer (a publish in progress or killed) are not heads. */
export function listHeads(store: ObjectStore): Promise<HeadSummary[]> {
  return listModels<HeadSummary>(store, HEADS, (head) => head.headId);
}

/** head.json with metrics.json and the publication time. */
export async function getHead(store: ObjectStore, headId: string): Promise<HeadDetails> {
  const pointer = await readPointer(store, headId);
  const [info, metrics] = await Promise.all([
    readModelJson<HeadInfo>(store, HEADS, pointer, HEADS.files.info),
    readModelJson<HeadMetricsFile>(store, HEADS, pointer, HEADS.files.metrics),
  ]);
  return { ...info, publishedAt: pointer.publishedAt, metrics };
}

/**
 * Unpublishes a head (the pointer goes first, so readers stop seeing it at once), then removes its files.
 * HeadNotFoundError when it is not published.
 */
export function deleteHead(store: ObjectStore, headId: string): Promise<void> {
  return deleteModel(store, HEADS, headId);
}
