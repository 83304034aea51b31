import type { ObjectStore } from '../store/index.js';

/** A JSON object from the store, or undefined when the key does not exist. */
export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.get(key)).toString('utf8')) as T;
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
    throw error;
  }
}

export function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  return store.put(key, JSON.stringify(value, null, 2), { contentType: 'application/json' });
}
