import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClassifyRoutes, type ClassifyRoutes } from '../../functions/classify/routes.js';
import { pipelineFromConfig } from '../../functions/shared/pipeline.js';
import { initBackend, tf } from '../../src/engine/backend.js';
import { buildHeadModel } from '../../src/heads/model.js';
import { DEFAULT_HEAD_SPEC } from '../../src/heads/spec.js';
import { HeadCache } from '../../src/registry/index.js';
import { publishHead } from '../../src/registry/publish.js';
import { MemoryStore } from '../../src/store/index.js';
import { loadModel } from '../../src/weights/index.js';
import { photo } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';
import { imageEvent, serve } from '../unit/classify-api/events.js';

/**
 * POST /explain with the real DenseNet121 weights: Grad-CAM of eagle.jpg (773 × 512) puts most of its mass on
 * the bird. The box was marked once by hand on the photo (a 50-px grid drawn over it): the bird from the tail
 * tip (x 130) to the beak (x 600), from the top of the head (y 85) to the talons (y 450); 43 % of the picture.
 */
const EAGLE_BOX = { x0: 130, y0: 85, x1: 600, y1: 450 };
const EAGLE_SIZE = { width: 773, height: 512 };
const BALD_EAGLE = 22;
const TABBY = 281;
const weights = await realWeights();

/**
 * The share of the map's mass inside the box, each map cell taken as the uniform patch of the photo it covers
 * (the network saw the photo resized straight, no crop).
 */
function massInside(map: { width: number; height: number; values: number[] }, box: typeof EAGLE_BOX, size: typeof EAGLE_SIZE): number {
  let total = 0;
  let inside = 0;
  for (let i = 0; i < map.height; i++) {
    for (let j = 0; j < map.width; j++) {
      const v = map.values[i * map.width + j]!;
      const [x0, x1] = [(j * size.width) / map.width, ((j + 1) * size.width) / map.width];
      const [y0, y1] = [(i * size.height) / map.height, ((i + 1) * size.height) / map.height];
      const overlap = Math.max(0, Math.min(x1, box.x1) - Math.max(x0, box.x0)) * Math.max(0, Math.min(y1, box.y1) - Math.max(y0, box.y0));
      total += v;
      inside += (v * overlap) / ((x1 - x0) * (y1 - y0));
    }
  }
  return inside / total;
}

const boxShare = ((EAGLE_BOX.x1 - EAGLE_BOX.x0) * (EAGLE_BOX.y1 - EAGLE_BOX.y0)) / (EAGLE_SIZE.width * EAGLE_SIZE.height);

describeWhen(weights, 'POST /explain (Grad-CAM) with DenseNet121 ImageNet weights', () => {
  let home: string;
  let store: MemoryStore;
  let routes: ClassifyRoutes;
  let answer: ReturnType<typeof serve>;
  let eagle: Buffer;

  beforeAll(async () => {
    await initBackend();
    home = await mkdtemp(join(tmpdir(), 'headstart-explain-'));
    await weights.installInto(home);
    store = new MemoryStore('explain-densenet');
    const config = { bucket: store.bucket, model: 'densenet121', home };
    routes = createClassifyRoutes({
      store,
      defaultModel: 'densenet121',
      createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, store),
      heads: new HeadCache(store),
      home,
    });
    answer = serve(routes.routes);
    eagle = await readFile(photo('eagle.jpg'));
  });

  afterAll(async () => {
    routes?.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it("model=densenet121: 'bald eagle', a 7×7 map of the last feature map ('relu') with most of its mass on the bird, and the overlay", async () => {
    const started = performance.now();
    const result = await answer(imageEvent(eagle, 'image/jpeg', { model: 'densenet121' }, '/explain'));
    const ms = performance.now() - started;
    const body = JSON.parse(result.body);

    expect(result.statusCode).toBe(200);
    expect(body).toMatchObject({ model: 'densenet121', layer: 'relu', class: BALD_EAGLE, label: 'bald eagle' });
    expect(body.score).toBeGreaterThan(0.9);
    expect(body.predictions[0]).toEqual({ label: 'bald eagle', score: body.score });
    expect(body.map).toMatchObject({ width: 7, height: 7 });
    expect(body.map.values).toHaveLength(49);
    expect(Math.max(...body.map.values)).toBe(1);
    const mass = massInside(body.map, EAGLE_BOX, EAGLE_SIZE);
    console.log(`Grad-CAM eagle.jpg, densenet121 'relu': ${(100 * mass).toFixed(1)} % of the mass in the bird's box (${(100 * boxShare).toFixed(1)} % of the picture), ${Math.round(ms)} ms (first request: loads the model), timings ${JSON.stringify(body.timings)}`);
    expect(mass).toBeGreaterThan(0.6);
    expect(mass).toBeGreaterThan(boxShare + 0.15);
    const overlay = await sharp(Buffer.from(body.overlay, 'base64')).metadata();
    expect([overlay.format, overlay.width, overlay.height]).toEqual(['png', EAGLE_SIZE.width, EAGLE_SIZE.height]);
  });

  it('Accept: image/png answers the overlay itself; class= explains another class', async () => {
    const png = await answer({ ...imageEvent(eagle, 'image/jpeg', { model: 'densenet121', class: 'tabby' }, '/explain'), headers: { 'Content-Type': 'image/jpeg', Accept: 'image/png' } });
    expect(png.statusCode).toBe(200);
    expect(png.headers?.['content-type']).toBe('image/png');
    expect((await sharp(Buffer.from(png.body, png.isBase64Encoded ? 'base64' : 'utf8')).metadata()).format).toBe('png');

    const started = performance.now();
    const json = JSON.parse((await answer(imageEvent(eagle, 'image/jpeg', { model: 'densenet121', class: String(TABBY) }, '/explain'))).body);
    console.log(`POST /explain warm: ${Math.round(performance.now() - started)} ms, timings ${JSON.stringify(json.timings)}`);
    expect(json).toMatchObject({ class: TABBY, label: 'tabby' });
    expect(json.score).toBeLessThan(0.01);
  });

  it('an unknown class or layer is a 400 that lists valid values', async () => {
    const badClass = await answer(imageEvent(eagle, 'image/jpeg', { model: 'densenet121', class: 'griffin' }, '/explain'));
    expect(badClass.statusCode).toBe(400);
    expect(JSON.parse(badClass.body).error.message).toMatch(/Unknown class 'griffin': expected one of 'tench'.*1000 labels/);
    const badLayer = await answer(imageEvent(eagle, 'image/jpeg', { model: 'densenet121', layer: 'predictions' }, '/explain'));
    expect(badLayer.statusCode).toBe(400);
    expect(JSON.parse(badLayer.body).error.message).toMatch(/Unknown layer 'predictions' to explain in densenet121: expected a layer with a 4-D feature map, such as .*'relu'/);
  });

  it('head=<id>: a head on the pooled features explains through the head (its two classes are ImageNet columns: bald eagle vs tabby)', async () => {
    // The head's Dense layer is the ImageNet classifier's columns for the two classes, so its answer is known.
    const { model: classifier } = await loadModel('densenet121', { home });
    const [kernel, bias] = classifier.getLayer('predictions').getWeights();
    const head = buildHeadModel(1024, 2, { ...DEFAULT_HEAD_SPEC, hidden: [] });
    const columns = tf.tidy(() => [tf.gather(kernel!, [BALD_EAGLE, TABBY], 1), tf.gather(bias!, [BALD_EAGLE, TABBY])]);
    head.setWeights(columns);
    tf.dispose(columns);
    classifier.dispose();
    const labels = ['eagle', 'tabby'];
    const base = { model: 'densenet121', weightsDigest: 'test', layer: 'avg_pool', pooling: 'avg' as const, preprocess: 'torch' as const, inputSize: [224, 224] as [number, number], interpolation: 'nearest' as const, dtype: 'float32' as const };
    await publishHead(store, {
      model: head,
      info: {
        headId: 'eagle-or-tabby', dataset: 'pets', validationDataset: null, labels, inputDim: 1024,
        base: { ...base, namespace: 'densenet121@test/avg_pool' },
        training: { spec: { ...DEFAULT_HEAD_SPEC, hidden: [] }, epochs: 1, bestEpoch: 1, rows: { train: 1, validation: 1 }, backend: 'wasm', durationMs: 1 },
        library: 'test', createdAt: new Date().toISOString(), jobId: null,
      },
      metrics: { accuracy: 0, loss: 0, perClass: {}, confusionMatrix: [], labels, evaluatedOn: 'training', rows: 1, bestEpoch: 1, history: [] },
    });
    head.dispose();

    const result = await answer(imageEvent(eagle, 'image/jpeg', { head: 'eagle-or-tabby' }, '/explain'));
    const body = JSON.parse(result.body);

    expect(result.statusCode).toBe(200);
    expect(body).toMatchObject({ model: 'densenet121', head: 'eagle-or-tabby', layer: 'relu', class: 0, label: 'eagle' });
    expect(body.score).toBeGreaterThan(0.99);
    const mass = massInside(body.map, EAGLE_BOX, EAGLE_SIZE);
    console.log(`Grad-CAM eagle.jpg through head eagle-or-tabby: ${(100 * mass).toFixed(1)} % of the mass in the bird's box, timings ${JSON.stringify(body.timings)}`);
    expect(mass).toBeGreaterThan(0.6);
  });
});
