import { deserializeHead } from '../heads/serialize.js';
import type { ObjectStore } from '../store/index.js';
import { HEADS } from './kinds.js';
import { readModelFile, readModelJson } from './published.js';
import { readPointer } from './read.js';
import type { HeadInfo, LoadedHead } from './types.js';

/**
 * Loads a published head for classification: its TF.js model (the caller owns it: `model.dispose()`)
 * and head.json (labels in output order, base namespace). HeadNotFoundError when it is not published;
 * CorruptHeadError when a file is missing or not the bytes that were published.
 */
export async function loadHead(store: ObjectStore, headId: string): Promise<LoadedHead> {
  const pointer = await readPointer(store, headId);
  const [head, modelJson, weights] = await Promise.all([
    readModelJson<HeadInfo>(store, HEADS, pointer, HEADS.files.info),
    readModelJson<unknown>(store, HEADS, pointer, HEADS.files.model),
    readModelFile(store, HEADS, pointer, HEADS.files.weights),
  ]);
  try {
    return { model: await deserializeHead(modelJson, weights), head };
  } catch (error) {
    throw HEADS.corrupt(headId, (error as Error).message, { cause: error });
  }
}
