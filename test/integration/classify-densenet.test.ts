import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClassifyRoutes, type ClassifyRoutes } from '../../functions/classify/routes.js';
import { pipelineFromConfig } from '../../functions/shared/pipeline.js';
import { initBackend } from '../../src/engine/backend.js';
import { HeadCache } from '../../src/registry/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { photo } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';
import { serve } from '../unit/classify-api/events.js';

/**
 * POST /classify with the real DenseNet121 weights (test/helpers/real-weights.ts), through the functions' own
 * pipeline factory (weights from the local cache), Keras load_img defaults: nearest-neighbour resize.
 */
const weights = await realWeights();

describeWhen(weights, 'POST /classify with DenseNet121 ImageNet weights', () => {
  let home: string;
  let routes: ClassifyRoutes;

  beforeAll(async () => {
    await initBackend();
    home = await mkdtemp(join(tmpdir(), 'headstart-classify-'));
    await weights.installInto(home);
    const store = new MemoryStore('classify-densenet');
    const config = { bucket: store.bucket, model: 'densenet121', home };
    routes = createClassifyRoutes({
      store,
      defaultModel: 'densenet121',
      createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, store),
      heads: new HeadCache(store),
    });
    await routes.warmUp();
  });

  afterAll(async () => {
    routes?.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it("eagle.jpg → 'bald eagle' top-1, raw body, nearest interpolation", async () => {
    const eagle = await readFile(photo('eagle.jpg'));

    const result = await serve(routes.routes)({
      path: '/classify',
      httpMethod: 'POST',
      headers: { 'Content-Type': 'image/jpeg' },
      body: eagle.toString('base64'),
      isBase64Encoded: true,
      queryStringParameters: { top: '3' },
    } as never);
    const body = JSON.parse(result.body);

    expect(result.statusCode).toBe(200);
    expect(body.model).toBe('densenet121');
    expect(body.predictions).toHaveLength(3);
    expect(body.predictions[0].label).toBe('bald eagle');
    expect(body.predictions[0].score).toBeGreaterThan(0.9);
    // Warm: the model was loaded by warmUp, so this request is inference only.
    expect(body.timings.totalMs).toBeLessThan(5000);
  });
});
