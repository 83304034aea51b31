import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/engine/backend.js';
import { createExtractor, type Extractor } from '../../src/engine/extractor.js';
import { loadImage, preprocessInto } from '../../src/image/index.js';
import { loadModel } from '../../src/weights/index.js';
import { featureExtractor } from '../../src/zoo/index.js';

/**
 * The real-weights check: DenseNet121 with the shared ImageNet weights, exported to ONNX, gives the
 * TF.js features and the TF.js top-1 class on the shared photos.
 */
const SHARED = join(import.meta.dirname, '../../../shared');
const PHOTOS: [string, number, string][] = [
  ['eagle.jpg', 22, 'bald eagle'],
  ['baboon.jpg', 372, 'baboon'],
  ['butterfly.jpg', 323, 'monarch'],
  ['dog.jpg', 249, 'malamute'],
];

/** Bilinear resize straight to 224×224 (how the shared README's top-1 was measured), 'torch' preprocessing. */
async function photoBatch(): Promise<Float32Array> {
  const size = 224 * 224 * 3;
  const batch = new Float32Array(PHOTOS.length * size);
  for (const [n, [file]] of PHOTOS.entries()) {
    const image = await loadImage(join(SHARED, 'images', file), { targetSize: [224, 224], interpolation: 'bilinear' });
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

describe('DenseNet121 with real weights: ONNX Runtime vs TF.js', () => {
  let home: string;
  let model: tf.LayersModel;
  let batch: Float32Array;

  beforeAll(async () => {
    await initBackend();
    home = await mkdtemp(join(tmpdir(), 'headstart-onnx-densenet-'));
    ({ model } = await loadModel('densenet121', { weights: join(SHARED, 'models/densenet121'), home }));
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
    const classes = JSON.parse(await readFile(join(SHARED, 'data/imagenet_classes.json'), 'utf8')) as Record<string, string>;
    const [onnx, tfjs] = await bothEngines(model);
    const { diff, bound } = maxDiff(onnx, tfjs);
    expect(diff).toBeLessThanOrEqual(bound);
    const top1 = argmaxRows(onnx, PHOTOS.length);
    expect(top1).toEqual(argmaxRows(tfjs, PHOTOS.length));
    expect(top1).toEqual(PHOTOS.map(([, index]) => index));
    PHOTOS.forEach(([, index, name]) => expect(classes[String(index)]).toContain(name));
  });
});
