import { deserializeHead } from '../heads/serialize.js';
import type { ObjectStore } from '../store/index.js';
import { CorruptHeadError } from './errors.js';
import { HEAD_FILES, headFileKey } from './keys.js';
import { sha256Hex as sha256 } from '../features/keys.js';
import { readHeadJson, readPointer } from './read.js';
import type { HeadInfo, LoadedHead } from './types.js';

async function readWeights(store: ObjectStore, headId: string, expected: { bytes: number; sha256: string } | undefined): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await store.get(headFileKey(headId, HEAD_FILES.weights));
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') throw new CorruptHeadError(headId, `${HEAD_FILES.weights} is missing`, { cause: error });
    throw error;
  }
  if (expected && sha256(bytes) !== expected.sha256) {
    throw new CorruptHeadError(headId, `${HEAD_FILES.weights} does not match the digest it was published with`);
  }
  return bytes;
}

/**
 * Loads a published head for classification: its TF.js model (the caller owns it: `model.dispose()`)
 * and head.json (labels in output order, base namespace). HeadNotFoundError when it is not published;
 * CorruptHeadError when its weights are missing or not the bytes that were published.
 */
export async function loadHead(store: ObjectStore, headId: string): Promise<LoadedHead> {
  const pointer = await readPointer(store, headId);
  const [head, modelJson, weights] = await Promise.all([
    readHeadJson<HeadInfo>(store, headId, HEAD_FILES.info),
    readHeadJson<unknown>(store, headId, HEAD_FILES.model),
    readWeights(store, headId, pointer.files[HEAD_FILES.weights]),
  ]);
  try {
    return { model: await deserializeHead(modelJson, weights), head };
  } catch (error) {
    throw new CorruptHeadError(headId, (error as Error).message, { cause: error });
  }
}
