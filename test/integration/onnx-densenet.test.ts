import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import classes from '../../src/classify/imagenet_classes.json' with { type: 'json' };
import { initBackend, tf } from '../../src/engine/backend.js';
import { createExtractor, type Extractor } from '../../src/engine/extractor.js';
import { loadImage, preprocessInto } from '../../src/image/index.js';
import { loadModel } from '../../src/weights/index.js';
import { featureExtractor } from '../../src/zoo/index.js';
import { photo, PHOTO_TOP1 as PHOTOS } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';

/**
 * The real-weights check: DenseNet121 with its ImageNet weights (test/helpers/real-weights.ts), exported to
 * ONNX, gives the TF.js features and the TF.js top-1 class on the fixture photos.
 */
const weights = await realWeights();

/** Bilinear resize straight to 224×224 (how the photos' top-1 was measured), 'torch' preprocessing. */
async function photoBatch(): Promise<Float32Array> {
  const size = 224 * 224 * 3;
  const batch = new Float32Array(PHOTOS.length * size);
  for (const [n, [file]] of PHOTOS.entries()) {
    const image = await loadImage(photo(file), { targetSize: [224, 224], interpolation: 'bilinear' });
    preprocessInto(image.data, batch, n * size, 'torch');
  }
  return batch;
}

function argmaxRows(data: Float32Array, rows: number): number[] {
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    const row = data.subarray(r * width, (r + 1) * width);
    return row.indexOf(Math.max(...row));
  });
}

function maxDiff(a: Float32Array, b: Float32Array): { diff: number; bound: number } {
  let diff = 0;
  let max = 0;
  a.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b[i]));
    max = Math.max(max, Math.abs(b[i]));
  });
  return { diff, bound: 1e-4 * Math.max(1, max) };
}

describeWhen(weights, 'DenseNet121 with real weights: ONNX Runtime vs TF.js', () => {
  let home: string;
  let model: tf.LayersModel;
  let batch: Float32Array;

  beforeAll(async () => {
    await initBackend();
    home = await mkdtemp(join(tmpdir(), 'headstart-onnx-densenet-'));
    await weights.installInto(home);
    ({ model } = await loadModel('densenet121', { home, fetch: () => Promise.reject(new Error('no network in this test')) }));
    batch = await photoBatch();
  });
  afterAll(async () => {
    model?.dispose();
    await rm(home, { recursive: true, force: true });
  });

  async function bothEngines(m: tf.LayersModel): Promise<[Float32Array, Float32Array]> {
    const extractors: Extractor[] = [await createExtractor(m, { engine: 'onnx' }), await createExtractor(m, { engine: 'tfjs' })];
    try {
      const onnx = await extractors[0].run(batch, PHOTOS.length);
      const tfjs = await extractors[1].run(batch, PHOTOS.length);
      return [onnx, tfjs];
    } finally {
      extractors.forEach((e) => e.dispose());
    }
  }

  it('gives the same avg_pool features (1,024 per photo)', async () => {
    const [onnx, tfjs] = await bothEngines(featureExtractor(model, { layer: 'avg_pool' }));
    expect(onnx).toHaveLength(PHOTOS.length * 1024);
    const { diff, bound } = maxDiff(onnx, tfjs);
    expect(diff).toBeLessThanOrEqual(bound);
  });

  it('gives the same probabilities and the same top-1, the README classes', async () => {
    const [onnx, tfjs] = await bothEngines(model);
    const { diff, bound } = maxDiff(onnx, tfjs);
    expect(diff).toBeLessThanOrEqual(bound);
    const top1 = argmaxRows(onnx, PHOTOS.length);
    expect(top1).toEqual(argmaxRows(tfjs, PHOTOS.length));
    expect(top1).toEqual(PHOTOS.map(([, index]) => index));
    PHOTOS.forEach(([, index, name]) => expect(classes[String(index) as keyof typeof classes]).toContain(name));
  });
});
