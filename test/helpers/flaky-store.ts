import type { ObjectStore } from '../../src/store/index.js';
import { StoreUnavailableError } from '../../src/store/index.js';

/**
 * Wraps a store so that operations on keys matching `failOn` throw a transient StoreUnavailableError
 * (as S3 throttling would) the first `times` times: for retry and partial-batch tests.
 */
export function flakyStore(inner: ObjectStore, failOn: (op: string, key: string) => boolean, times = Infinity): ObjectStore & { failures: number } {
  let failures = 0;
  const check = (op: string, key: string) => {
    if (failures < times && failOn(op, key)) {
      failures += 1;
      throw new StoreUnavailableError(`SlowDown on ${op} ${key}`, { code: 'SlowDown', key, operation: op });
    }
  };
  return {
    get bucket() {
      return inner.bucket;
    },
    get failures() {
      return failures;
    },
    async get(key) {
      check('get', key);
      return inner.get(key);
    },
    async getStream(key) {
      check('get', key);
      return inner.getStream(key);
    },
    async put(key, body, options) {
      check('put', key);
      return inner.put(key, body, options);
    },
    head: (key) => inner.head(key),
    exists: (key) => inner.exists(key),
    list: (prefix, options) => inner.list(prefix, options),
    listAll: (prefix) => inner.listAll(prefix),
    delete: (key) => inner.delete(key),
  };
}
