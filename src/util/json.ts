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

/**
 * How deep a request body may nest (objects and arrays). Our widest request (POST /train with a head and its
 * classWeights) nests four levels; the bound keeps validators and error messages, which walk and print
 * values recursively, from overflowing the stack on `{"a":{"a":…}}` (a 500 where a 400 belongs).
 */
export const MAX_JSON_DEPTH = 32;

/** True when `value` nests objects or arrays more than `max` levels deep; walks iteratively and stops at the first too-deep one. */
export function exceedsJsonDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
