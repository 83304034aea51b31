import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/engine/backend.js';
import { imagesToTensor, loadImage, preprocessInput } from '../../src/image/index.js';
import { importWeights, listCachedWeights, loadModel, readTfjsLayersFolder } from '../../src/weights/index.js';
import { expectNoLeak } from '../helpers/tf.js';

/**
 * The real check: the shared DenseNet121 TF.js folder (Keras 2.1.4 names, 'fc1000' top) imported into
 * our own DenseNet121 builder by layer name, not by loading its topology, then classifying real photos.
 */
const SHARED = join(import.meta.dirname, '../../../shared');
const DENSENET = join(SHARED, 'models/densenet121');

const EXPECTED_TOP1: [string, number, string][] = [
  ['eagle.jpg', 22, 'bald eagle'],
  ['baboon.jpg', 372, 'baboon'],
  ['butterfly.jpg', 323, 'monarch'],
  ['dog.jpg', 249, 'malamute'],
];

// Bilinear resize straight to 224×224 (the shared README's top-1 values were measured that way), RGB,
// then Keras 'torch' preprocessing: x/255, minus the ImageNet mean, over its std.
async function photoBatch(files: string[]): Promise<tf.Tensor4D> {
  const images = await Promise.all(files.map((file) => loadImage(join(SHARED, 'images', file), { targetSize: [224, 224], interpolation: 'bilinear' })));
  return tf.tidy(() => {
    const raw = imagesToTensor(images);
    return preprocessInput(raw, 'torch') as tf.Tensor4D;
  });
}

let home: string;
beforeAll(async () => {
  await initBackend();
  home = await mkdtemp(join(tmpdir(), 'headstart-densenet-'));
});
afterAll(() => rm(home, { recursive: true, force: true }));

describe('DenseNet121 with the shared TF.js weights', () => {
  it('imports the folder as the with-top weights of our builder (fc1000 → predictions)', async () => {
    const entry = await importWeights(DENSENET, { model: 'densenet121', home });
    expect(entry.variant).toBe('top');
    expect(entry.index.params).toBe(8_062_504);
    expect(entry.index.layers).toBe(242);
    expect(entry.index.digest).toMatch(/^[0-9a-f]{16}$/);
  });

  it('classifies the four photos as the README says, without leaking tensors', async () => {
    const classes = JSON.parse(await readFile(join(SHARED, 'data/imagenet_classes.json'), 'utf8')) as Record<string, string>;
    const { model, weightsDigest } = await loadModel('densenet121', { weights: 'imagenet', home, fetch: () => Promise.reject(new Error('no network in this test')) });
    expect(weightsDigest).toMatch(/^[0-9a-f]{16}$/);
    const batch = await photoBatch(EXPECTED_TOP1.map(([file]) => file));
    const { top1, scores } = await expectNoLeak(async () => {
      const probs = model.predict(batch) as tf.Tensor2D;
      const top = tf.topk(probs, 1);
      const result = { top1: Array.from(await top.indices.data()), scores: Array.from(await top.values.data()) };
      tf.dispose([probs, top.indices, top.values]);
      return result;
    });
    batch.dispose();
    model.dispose();
    expect(top1).toEqual(EXPECTED_TOP1.map(([, index]) => index));
    EXPECTED_TOP1.forEach(([, index, name]) => expect(classes[String(index)]).toContain(name));
    // The README's probabilities (0.97, 0.85, 0.79, 0.83), loosely: same photos, a different resampler.
    scores.forEach((p) => expect(p).toBeGreaterThan(0.5));
  });

  it('gives the same digest when the folder is loaded as a path, without caching it', async () => {
    const unused = join(home, 'unused');
    const { model, weightsDigest } = await loadModel('densenet121', { weights: DENSENET, home: unused });
    model.dispose();
    expect(await listCachedWeights(unused)).toEqual([]);
    const imported = await importWeights(DENSENET, { model: 'densenet121', home });
    expect(weightsDigest).toBe(imported.index.digest);
  });

  it('reads every manifest weight', async () => {
    const weights = await readTfjsLayersFolder(DENSENET);
    expect(weights.reduce((n, l) => n + l.weights.length, 0)).toBe(606);
  });
});
