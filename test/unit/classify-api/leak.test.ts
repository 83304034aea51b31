import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifyRoutes, type ClassifyRoutes } from '../../../functions/classify/routes.js';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { FeaturePipeline } from '../../../src/features/pipeline.js';
import { HeadCache } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { imageEvent, multipartEvent, serve, solidJpeg } from './events.js';
import { publishTestHead } from './heads.js';

/** The TF.js engine runs the network as tensors, so this is where a missing dispose would show. */
let routes: ClassifyRoutes;
let answer: ReturnType<typeof serve>;
let photo: Buffer;

beforeAll(async () => {
  await initBackend();
  const store = new MemoryStore('leak-test');
  await publishTestHead(store, 'pets', ['cat', 'dog']);
  routes = createClassifyRoutes({
    store,
    defaultModel: 'mobilenet_v2',
    createPipeline: (model, cut) => FeaturePipeline.create({ model, cut, weights: null, engine: 'tfjs' }),
    heads: new HeadCache(store),
  });
  answer = serve(routes.routes);
  photo = await solidJpeg();
});

afterAll(() => routes?.dispose());

/** One round of everything a client does: classify (batch with a bad image), a head, features, an error. */
async function round(): Promise<number[]> {
  const answers = await Promise.all([
    answer(multipartEvent([{ bytes: photo }, { bytes: Buffer.from('not an image') }])),
    answer(imageEvent(photo, 'image/jpeg', { head: 'pets' })),
    answer(imageEvent(photo, 'image/jpeg', undefined, '/features')),
    answer(imageEvent(Buffer.from('nope'))),
  ]);
  return answers.map((a) => a.statusCode);
}

describe('tensors over repeated requests', () => {
  it('warm-up and the first round load the models; later rounds leave tf.memory().numTensors unchanged', async () => {
    await routes.warmUp();
    expect(await round()).toEqual([200, 200, 200, 400]);
    const loaded = tf.memory().numTensors;

    for (let i = 0; i < 3; i++) expect(await expectNoLeak(round)).toEqual([200, 200, 200, 400]);

    expect(tf.memory().numTensors).toBe(loaded);
  });
});
