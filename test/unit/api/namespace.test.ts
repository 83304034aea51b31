import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { namespaceFor, type RuntimeConfig } from '../../../functions/shared/runtime.js';
import { MemoryStore } from '../../../src/store/index.js';

const homes: string[] = [];

async function home(entries: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'headstart-ns-'));
  homes.push(dir);
  for (const [modelVariant, digest] of Object.entries(entries)) {
    await mkdir(join(dir, 'weights', modelVariant), { recursive: true });
    await writeFile(join(dir, 'weights', modelVariant, 'index.json'), JSON.stringify({ digest }));
  }
  return dir;
}

afterEach(async () => {
  await Promise.all(homes.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const config = (model: string, extra: Partial<RuntimeConfig> & { home: string }): RuntimeConfig => ({ bucket: 'b', model, ...extra });

describe('namespaceFor', () => {
  it("is the pipeline's namespace for the default feature layer, digest from the cached weights index", async () => {
    const ns = await namespaceFor(config('densenet121', { home: await home({ 'densenet121/top': 'aaaabbbbccccdddd' }) }), { env: {} });
    expect(ns).toEqual({
      model: 'densenet121',
      weightsDigest: 'aaaabbbbccccdddd',
      layer: 'avg_pool',
      pooling: null,
      preprocess: 'torch',
      inputSize: [224, 224],
      interpolation: 'nearest',
      dtype: 'float32',
    });
  });

  it('names the no-top pooling layer and prefers the no-top weights for a pooled cut', async () => {
    const dir = await home({ 'inception_v3/top': '1111111111111111', 'inception_v3/notop': '2222222222222222' });
    const ns = await namespaceFor(config('inception_v3', { home: dir, cut: { pooling: 'max' } }), { env: {} });
    expect(ns).toMatchObject({ model: 'inception_v3', weightsDigest: '2222222222222222', layer: 'global_max_pooling2d_1', pooling: 'max', preprocess: 'tf', inputSize: [299, 299] });
  });

  it('uses a named layer, the bucket copy of the index, or an explicit digest', async () => {
    const store = new MemoryStore();
    await store.put('weights/vgg16/top/index.json', JSON.stringify({ digest: 'feedfeedfeedfeed' }));
    const fromStore = await namespaceFor(config('vgg16', { home: await home(), cut: { layer: 'fc1' } }), { store, env: {} });
    expect(fromStore).toMatchObject({ weightsDigest: 'feedfeedfeedfeed', layer: 'fc1', preprocess: 'caffe' });
    const explicit = await namespaceFor(config('vgg16', { home: await home() }), { env: { HEADSTART_WEIGHTS_DIGEST: '0000000000000000' } });
    expect(explicit).toMatchObject({ weightsDigest: '0000000000000000', layer: 'fc2' });
  });

  it('says what to do when no weights index exists, and lists valid models for an unknown one', async () => {
    const dir = await home();
    await expect(namespaceFor(config('resnet50', { home: dir }), { env: {} })).rejects.toMatchObject({
      code: 'WeightsUnavailable',
      message: expect.stringContaining('run `headstart weights pull resnet50`'),
    });
    await expect(namespaceFor(config('alexnet', { home: dir }), { env: {} })).rejects.toThrow("Unknown model 'alexnet': expected 'vgg16'");
  });
});
