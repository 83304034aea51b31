import { beforeAll, describe, expect, it } from 'vitest';
import { listDatasetImages, splitImages } from '../../../src/finetune/data.js';
import { ImageLoader } from '../../../src/finetune/images.js';
import { InsufficientExamplesError } from '../../../src/heads/errors.js';
import { mulberry32 } from '../../../src/heads/random.js';
import { loadImage, preprocessInto } from '../../../src/image/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { LABELS, patternPng, putPatternDataset } from './fixtures.js';

let store: MemoryStore;

beforeAll(async () => {
  store = new MemoryStore();
  await putPatternDataset(store, 'shapes', 5);
  await store.put('images/shapes/_unlabelled/x.png', await patternPng('square', 1));
  await store.put('images/shapes/square/empty.png', Buffer.alloc(0));
  await store.put('images/mono/only/a.png', await patternPng('square', 2));
  await store.put('images/shapes/square/zz-broken.png', 'not an image');
});

describe('listDatasetImages', () => {
  it('lists labelled, non-empty images in key order with sorted labels; _unlabelled is not a class', async () => {
    const { labels, all } = await listDatasetImages(store, 'shapes');
    expect(labels).toEqual([...LABELS]);
    expect(all.keys).toHaveLength(16);
    expect(all.keys).toEqual([...all.keys].sort());
    expect(all.keys.some((k) => k.includes('_unlabelled') || k.endsWith('empty.png'))).toBe(false);
    expect(Array.from(all.labelIndex.slice(0, 5))).toEqual([0, 0, 0, 0, 0]);
  });

  it('says which datasets exist, and that one label is not a classifier', async () => {
    await expect(listDatasetImages(store, 'nope')).rejects.toThrow("Dataset 'nope' has no images under images/nope/<label>/ (known datasets: 'mono' or 'shapes').");
    await expect(listDatasetImages(store, 'mono')).rejects.toThrow(/needs at least 2 labels .* found only 'only'/);
  });
});

describe('splitImages', () => {
  it('holds out a seeded, stratified share of each label', async () => {
    const { labels, all } = await listDatasetImages(store, 'shapes');
    const { train, validation } = splitImages(all, labels, 0.2, 42);
    const count = (set: { labelIndex: Int32Array }, c: number) => set.labelIndex.filter((l) => l === c).length;
    expect([0, 1, 2].map((c) => count(validation!, c))).toEqual([1, 1, 1]);
    expect(train.keys.length + validation!.keys.length).toBe(all.keys.length);
    expect(new Set([...train.keys, ...validation!.keys]).size).toBe(all.keys.length);
    expect(splitImages(all, labels, 0.2, 42).validation!.keys).toEqual(validation!.keys);
    expect(splitImages(all, labels, 0.2, 43).validation!.keys).not.toEqual(validation!.keys);
    expect(splitImages(all, labels, 0, 42)).toEqual({ train: all });
  });

  it('needs two images of a label to put one on each side', () => {
    const set = { keys: ['a', 'b', 'c'], labelIndex: Int32Array.from([0, 0, 1]) };
    expect(() => splitImages(set, ['x', 'y'], 0.2, 1)).toThrow(InsufficientExamplesError);
  });
});

describe('ImageLoader', () => {
  const options = { inputSize: [16, 16] as [number, number], interpolation: 'bilinear' as const, preprocess: 'torch' as const };

  it('gives load_img + preprocess_input of each image, in order', async () => {
    const keys = ['images/shapes/horizontal/img-0.png', 'images/shapes/vertical/img-3.png'];
    const batch = await new ImageLoader(store, options).batch(keys);
    const expected = new Float32Array(2 * 16 * 16 * 3);
    for (const [i, key] of keys.entries()) {
      const { data } = await loadImage(await store.get(key), { targetSize: [16, 16], interpolation: 'bilinear' });
      preprocessInto(data, expected, i * 16 * 16 * 3, 'torch');
    }
    expect(batch).toEqual(expected);
  });

  it('augments only when asked, from the stream it is given', async () => {
    const loader = new ImageLoader(store, options);
    const keys = ['images/shapes/square/img-1.png'];
    const plain = await loader.batch(keys);
    const augment = { options: { flip: true, zoom: 0.3, rotation: 20 }, random: mulberry32(4) };
    const augmented = await loader.batch(keys, augment);
    expect(augmented).not.toEqual(plain);
    expect(await loader.batch(keys, { ...augment, random: mulberry32(4) })).toEqual(augmented);
    expect(await loader.batch(keys, { options: { flip: false, zoom: 0, rotation: 0 }, random: mulberry32(4) })).toEqual(plain);
  });

  it('reports unusable images with their code instead of failing the epoch', async () => {
    const loader = new ImageLoader(store, options);
    const keys = ['images/shapes/square/img-0.png', 'images/shapes/square/zz-broken.png', 'images/shapes/square/gone.png'];
    expect(await loader.check(keys)).toEqual([
      { key: 'images/shapes/square/zz-broken.png', code: 'NotAnImage' },
      { key: 'images/shapes/square/gone.png', code: 'NoSuchKey' },
    ]);
  });
});
