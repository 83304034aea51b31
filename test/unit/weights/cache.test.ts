import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LIBRARY_VERSION } from '../../../src/version.js';
import { headstartHome, listCachedWeights, loadCachedWeights, readCacheEntry, writeCacheEntry } from '../../../src/weights/cache.js';
import type { LayerWeights } from '../../../src/weights/types.js';
import { weightsDigest } from '../../../src/weights/weightsFile.js';

const WEIGHTS: LayerWeights = [
  { layer: 'fc1', weights: [{ name: 'kernel', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, { name: 'bias', shape: [2], data: Float32Array.of(5, 6) }] },
];

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'headstart-cache-'));
});
afterAll(() => rm(home, { recursive: true, force: true }));

describe('headstartHome', () => {
  it('prefers the option, then $HEADSTART_HOME, then ~/.cache/headstart', () => {
    vi.stubEnv('HEADSTART_HOME', '/srv/hs');
    expect(headstartHome('/opt/x')).toBe('/opt/x');
    expect(headstartHome()).toBe('/srv/hs');
    vi.stubEnv('HEADSTART_HOME', undefined);
    expect(headstartHome()).toBe(join(homedir(), '.cache', 'headstart'));
    vi.unstubAllEnvs();
  });
});

describe('the weights cache', () => {
  it('writes weights.bin and index.json under weights/<model>/<variant>, and reads them back', async () => {
    const entry = await writeCacheEntry('vgg16', 'notop', WEIGHTS, { fileName: 'vgg16_notop.h5', md5: 'abc' }, home);
    expect(entry.dir).toBe(join(home, 'weights', 'vgg16', 'notop'));
    expect((await readdir(entry.dir)).sort()).toEqual(['index.json', 'weights.bin']);
    const index = JSON.parse(await readFile(join(entry.dir, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ model: 'vgg16', variant: 'notop', digest: weightsDigest(WEIGHTS), params: 6, layers: 1, libraryVersion: LIBRARY_VERSION, source: { fileName: 'vgg16_notop.h5', md5: 'abc' } });
    expect(Date.parse(index.created)).toBeGreaterThan(0);
    const again = await readCacheEntry('vgg16', 'notop', home);
    expect(again?.index).toEqual(index);
    expect(await loadCachedWeights(again!)).toEqual(WEIGHTS);
  });

  it('has no entry while index.json is missing (an interrupted write)', async () => {
    const entry = await writeCacheEntry('resnet50', 'top', WEIGHTS, { fileName: 'r.h5' }, home);
    await rm(join(entry.dir, 'index.json'));
    expect(await readCacheEntry('resnet50', 'top', home)).toBeUndefined();
  });

  it('refuses a weights.bin whose size disagrees with its index', async () => {
    const entry = await writeCacheEntry('vgg19', 'top', WEIGHTS, { fileName: 'v.h5' }, home);
    await expect(loadCachedWeights({ ...entry, index: { ...entry.index, bytes: 1 } })).rejects.toThrow(/delete .* and pull or import again/);
  });

  it('lists every entry', async () => {
    const listed = await listCachedWeights(home);
    expect(listed.map((e) => `${e.modelId}/${e.variant}`)).toEqual(['vgg16/notop', 'vgg19/top']);
    expect(await listCachedWeights(join(home, 'nowhere'))).toEqual([]);
  });
});
