import { HeadstartError } from '../../src/errors.js';
import { mapLimit } from '../../src/util/concurrency.js';
import type { ObjectStore } from '../../src/store/index.js';
import type { ImageSource } from './body.js';
import { ObjectTooLargeError } from './errors.js';

/** An image ready for the pipeline, or why it is not. */
export type LoadedSource = { name: string | number; bytes: Uint8Array } | { name: string | number; error: HeadstartError };

/** Bucket reads in flight per request. */
const READ_CONCURRENCY = 8;

/**
 * Reads the bytes of `{ key }` sources from the bucket; the others pass through. A missing or oversized
 * object fails its own entry (NoSuchKey, ObjectTooLarge). Errors that are not ours (bugs) propagate.
 */
export function loadSources(store: ObjectStore, sources: readonly ImageSource[], maxObjectBytes: number): Promise<LoadedSource[]> {
  return mapLimit(sources, READ_CONCURRENCY, async (source) => {
    if (!('key' in source)) return source;
    try {
      return { name: source.name, bytes: await readObject(store, source.key, maxObjectBytes) };
    } catch (error) {
      if (error instanceof HeadstartError) return { name: source.name, error };
      throw error;
    }
  });
}

/** Streams the object and stops at the limit, so a 5 GB key costs the limit, not 5 GB. */
async function readObject(store: ObjectStore, key: string, maxBytes: number): Promise<Buffer> {
  const stream = await store.getStream(key);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new ObjectTooLargeError(key, maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
