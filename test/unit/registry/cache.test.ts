import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { deleteHead, HeadCache, HeadNotFoundError, publishHead } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { draftHead } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

/** A store with three published heads, counting reads of model.json (one per load). */
async function storeWithHeads(ids = ['a', 'b', 'c']) {
  const store = new MemoryStore();
  for (const id of ids) {
    const draft = draftHead(id);
    await publishHead(store, draft);
    draft.model.dispose();
  }
  const loads: string[] = [];
  const get = store.get.bind(store);
  store.get = async (key) => {
    if (key.endsWith('/model.json')) loads.push(key.split('/')[2]!);
    return get(key);
  };
  return { store, loads };
}

describe('HeadCache', () => {
  it('loads a head once and serves it from memory after', async () => {
    const { store, loads } = await storeWithHeads();
    const cache = new HeadCache(store);
    const [first, second] = await Promise.all([cache.get('a'), cache.get('a')]);
    const third = await cache.get('a');
    expect(first.model).toBe(second.model);
    expect(third.model).toBe(first.model);
    expect(loads).toEqual(['a']);
    await cache.clear();
  });

  it('evicts and disposes the least recently used head beyond maxSize', async () => {
    const { store, loads } = await storeWithHeads();
    const before = tf.memory().numTensors;
    const cache = new HeadCache(store, { maxSize: 2 });
    const a = await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(a.model.layers[0]!.getWeights()[0]!.isDisposed).toBe(false);
    await cache.get('b');
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
    expect(cache.size).toBe(2);
    await cache.clear();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops serving a head once it is deleted, and disposes it', async () => {
    const { store } = await storeWithHeads(['a']);
    const before = tf.memory().numTensors;
    const cache = new HeadCache(store);
    await cache.get('a');
    await deleteHead(store, 'a');
    await expect(cache.get('a')).rejects.toBeInstanceOf(HeadNotFoundError);
    expect(cache.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does not cache a failed load', async () => {
    const { store } = await storeWithHeads([]);
    const cache = new HeadCache(store);
    await expect(cache.get('late')).rejects.toBeInstanceOf(HeadNotFoundError);
    const draft = draftHead('late');
    await publishHead(store, draft);
    draft.model.dispose();
    expect((await cache.get('late')).head.headId).toBe('late');
    await cache.clear();
  });

  it('rejects a maxSize below 1', () => {
    expect(() => new HeadCache(new MemoryStore(), { maxSize: 0 })).toThrow('HeadCache maxSize must be an integer ≥ 1, got 0');
  });
});
