import type { ObjectStore } from '../store/index.js';

/** A JSON object from the store; the store's error (NoSuchKey, …) when it cannot be read. */
export async function getJson<T>(store: ObjectStore, key: string): Promise<T> {
  return JSON.parse((await store.get(key)).toString('utf8')) as T;
}

/** A JSON object from the store, or undefined when the key does not exist. */
export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    return await getJson<T>(store, key);
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Writes `value` as indented JSON with its content type. */
export function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  return store.put(key, JSON.stringify(value, null, 2), { contentType: 'application/json' });
}
