import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import classes from '../../src/classify/imagenet_classes.json' with { type: 'json' };
import { initBackend, tf } from '../../src/engine/backend.js';
import { imagesToTensor, loadImage, preprocessInput } from '../../src/image/index.js';
import { importWeights, listCachedWeights, loadModel, readTfjsLayersFolder } from '../../src/weights/index.js';
import { photo, PHOTO_TOP1 } from '../helpers/fixtures.js';
import { describeWhen, realWeights, sharedExport } from '../helpers/real-weights.js';
import { expectNoLeak } from '../helpers/tf.js';

/**
 * The real check: DenseNet121 ImageNet weights (test/helpers/real-weights.ts) in our own DenseNet121 builder,
 * loaded by layer name, not by loading a topology, classifying real photos; and this team's TF.js export
 * (Keras 2.1.4 names, 'fc1000' top) imported by name, where it is beside the checkout.
 */
const weights = await realWeights();
const shared = sharedExport();

// Bilinear resize straight to 224×224 (the photos' top-1 values were measured that way), RGB,
// then Keras 'torch' preprocessing: x/255, minus the ImageNet mean, over its std.
async function photoBatch(files: string[]): Promise<tf.Tensor4D> {
  const images = await Promise.all(files.map((file) => loadImage(photo(file), { targetSize: [224, 224], interpolation: 'bilinear' })));
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

describeWhen(shared, 'DenseNet121 with the shared TF.js weights', () => {
  it('imports the folder as the with-top weights of our builder (fc1000 → predictions)', async () => {
    const entry = await importWeights(shared.path, { model: 'densenet121', home: join(home, 'shared') });
    expect(entry.variant).toBe('top');
    expect(entry.index.params).toBe(8_062_504);
    expect(entry.index.layers).toBe(242);
    expect(entry.index.digest).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives the same digest when the folder is loaded as a path, without caching it', async () => {
    const unused = join(home, 'unused');
    const { model, weightsDigest } = await loadModel('densenet121', { weights: shared.path, home: unused });
    model.dispose();
    expect(await listCachedWeights(unused)).toEqual([]);
    const imported = await importWeights(shared.path, { model: 'densenet121', home: join(home, 'shared') });
    expect(weightsDigest).toBe(imported.index.digest);
  });

  it('reads every manifest weight', async () => {
    const read = await readTfjsLayersFolder(shared.path);
    expect(read.reduce((n, l) => n + l.weights.length, 0)).toBe(606);
  });
});

describeWhen(weights, 'DenseNet121 with ImageNet weights', () => {
  it('classifies the four photos as the fixtures README says, without leaking tensors', async () => {
    await weights.installInto(home);
    const { model, weightsDigest } = await loadModel('densenet121', { weights: 'imagenet', home, fetch: () => Promise.reject(new Error('no network in this test')) });
    expect(weightsDigest).toMatch(/^[0-9a-f]{16}$/);
    const batch = await photoBatch(PHOTO_TOP1.map(([file]) => file));
    const { top1, scores } = await expectNoLeak(async () => {
      const probs = model.predict(batch) as tf.Tensor2D;
      const top = tf.topk(probs, 1);
      const result = { top1: Array.from(await top.indices.data()), scores: Array.from(await top.values.data()) };
      tf.dispose([probs, top.indices, top.values]);
      return result;
    });
    batch.dispose();
    model.dispose();
    expect(top1).toEqual(PHOTO_TOP1.map(([, index]) => index));
    PHOTO_TOP1.forEach(([, index, name]) => expect(classes[String(index) as keyof typeof classes]).toContain(name));
    // The measured probabilities (0.97, 0.85, 0.79, 0.83), loosely: same photos, a different resampler.
    scores.forEach((p) => expect(p).toBeGreaterThan(0.5));
  });
});
