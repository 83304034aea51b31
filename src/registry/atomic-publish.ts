import { sha256Hex } from '../features/keys.js';
import type { ObjectStore } from '../store/index.js';

/** One file of a published model: its name in the model's folder, its bytes, its content type. */
export type PublishedFile = readonly [name: string, body: Buffer, contentType: string];

/** What a pointer records of each file, so a reader can tell a damaged or swapped file. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

export function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 2));
}

/**
 * The registry's publish protocol: every file first, the pointer (built from the files' sizes and digests)
 * last. Readers only see what has a pointer, so a process killed between two writes leaves files nobody
 * lists rather than half a model. On an error the written files are removed (best effort: a killed process
 * cannot, and its leftovers stay invisible).
 */
export async function publishWithPointer<P>(
  store: ObjectStore,
  files: readonly PublishedFile[],
  keyOf: (name: string) => string,
  pointerKey: string,
  makePointer: (digests: Record<string, FileDigest>) => P,
): Promise<P> {
  const written: string[] = [];
  try {
    for (const [name, body, contentType] of files) {
      await store.put(keyOf(name), body, { contentType });
      written.push(keyOf(name));
    }
    const pointer = makePointer(Object.fromEntries(files.map(([name, body]) => [name, { bytes: body.length, sha256: sha256Hex(body) }])));
    await store.put(pointerKey, jsonBody(pointer), { contentType: 'application/json' });
    return pointer;
  } catch (error) {
    await Promise.allSettled(written.map((key) => store.delete(key)));
    throw error;
  }
}
