import type { ObjectStore } from '../../src/store/index.js';

export type StoreCall = `${'get' | 'head' | 'put' | 'delete' | 'list'} ${string}`;

/**
 * Wraps a store and records every request made through it as `'<op> <key>'` (`exists` counts as a
 * head, `getStream` as a get): for tests that hold a component to a number of S3 round trips.
 */
export function recordingStore(inner: ObjectStore): ObjectStore & { calls: StoreCall[]; reset(): void } {
  const calls: StoreCall[] = [];
  return {
    get bucket() {
      return inner.bucket;
    },
    calls,
    reset: () => void calls.splice(0),
    get: (key) => (calls.push(`get ${key}`), inner.get(key)),
    getStream: (key) => (calls.push(`get ${key}`), inner.getStream(key)),
    put: (key, body, options) => (calls.push(`put ${key}`), inner.put(key, body, options)),
    head: (key) => (calls.push(`head ${key}`), inner.head(key)),
    exists: (key) => (calls.push(`head ${key}`), inner.exists(key)),
    list: (prefix, options) => (calls.push(`list ${prefix}`), inner.list(prefix, options)),
    listAll: (prefix) => (calls.push(`list ${prefix}`), inner.listAll(prefix)),
    delete: (key) => (calls.push(`delete ${key}`), inner.delete(key)),
  };
}
