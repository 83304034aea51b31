import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { publishWeightsIndex, pushWeightsToStore, syncWeightsFromStore } from '../../../src/weights/bucket.js';
import { readCacheEntry, writeCacheEntry } from '../../../src/weights/cache.js';
import type { LayerWeights } from '../../../src/weights/types.js';
import { MemoryStore } from '../../../src/store/index.js';
import { startTestS3, type TestS3 } from '../../helpers/store-s3.js';

const WEIGHTS: LayerWeights = [{ layer: 'fc1', weights: [{ name: 'kernel', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }] }];

let home: string;
let empty: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'headstart-push-'));
  empty = await mkdtemp(join(tmpdir(), 'headstart-sync-'));
  await writeCacheEntry('vgg16', 'notop', WEIGHTS, { fileName: 'vgg16_notop.h5', md5: 'abc' }, home);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

describe('weights between the cache and the bucket (weights/<model>/<variant>/)', () => {
  it('push uploads weights.bin and index.json; sync copies them into an empty cache byte-exact', async () => {
    const store = new MemoryStore();

    const keys = await pushWeightsToStore(store, 'vgg16', 'notop', home);

    expect(keys).toEqual(['weights/vgg16/notop/weights.bin', 'weights/vgg16/notop/index.json']);
    expect(await syncWeightsFromStore(store, 'vgg16', 'notop', empty)).toBe(true);
    const [pushed, synced] = await Promise.all([readCacheEntry('vgg16', 'notop', home), readCacheEntry('vgg16', 'notop', empty)]);
    expect(synced?.index).toEqual(pushed?.index);
    expect((await readFile(synced!.weightsPath)).equals(await readFile(pushed!.weightsPath))).toBe(true);
    expect(await syncWeightsFromStore(store, 'vgg16', 'top', empty)).toBe(false);
  });

  it('push without a cache entry says how to get one; the index is published only where the bucket has none', async () => {
    const store = new MemoryStore();
    await expect(pushWeightsToStore(store, 'vgg16', 'top', home)).rejects.toThrow("No cached top weights for 'vgg16': run `headstart weights pull vgg16` or `headstart weights import` first.");
    await publishWeightsIndex(store, 'vgg16', ['top', 'notop'], home);
    expect(JSON.parse((await store.get('weights/vgg16/notop/index.json')).toString())).toMatchObject({ model: 'vgg16', variant: 'notop' });
    expect(await store.exists('weights/vgg16/top/index.json')).toBe(false);
  });
});

describe('headstart weights push', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(() => s3?.stop());

  it('uploads a cached entry to the bucket on the given endpoint', async () => {
    const out: string[] = [];
    const previous = process.env.HEADSTART_HOME;
    process.env.HEADSTART_HOME = home;
    try {
      const code = await main(['weights', 'push', 'vgg16', '--no-top', '--endpoint', s3.s3.endpoint, '--bucket', s3.s3.bucket], { out: (l) => out.push(l), err: (l) => out.push(l) });
      expect(code, out.join('\n')).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.HEADSTART_HOME;
      else process.env.HEADSTART_HOME = previous;
    }
    expect(out).toEqual([`pushed s3://${s3.s3.bucket}/weights/vgg16/notop/weights.bin, s3://${s3.s3.bucket}/weights/vgg16/notop/index.json`]);
    expect(JSON.parse((await s3.store.get('weights/vgg16/notop/index.json')).toString())).toMatchObject({ model: 'vgg16', variant: 'notop' });
  });
});
