import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifyRoutes, type ClassifyRoutes } from '../../../functions/classify/routes.js';
import { initBackend } from '../../../src/engine/backend.js';
import { buildDatasetIndex } from '../../../src/features/dataset.js';
import { featureKey } from '../../../src/layout.js';
import { sha256Hex } from '../../../src/util/hash.js';
import { FeaturePipeline } from '../../../src/features/pipeline.js';
import { HeadCache } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { testApi, type TestApi } from '../api/fixtures.js';
import { imageEvent, parseAnswer, serve, solidJpeg } from '../classify-api/events.js';
import { MOBILENET_RANDOM, publishTestHead } from '../classify-api/heads.js';

/** The review queue end to end: POST /classify keeps images, the API lists, labels and discards them. */
let store: MemoryStore;
let routes: ClassifyRoutes;
let api: TestApi;
let photo: Buffer;

beforeAll(async () => {
  await initBackend();
  store = new MemoryStore('reviews-test');
  routes = createClassifyRoutes({
    store,
    defaultModel: 'mobilenet_v2',
    createPipeline: (model, cut) => FeaturePipeline.create({ model, cut, weights: null }),
    heads: new HeadCache(store),
  });
  api = testApi({ store, namespace: async () => MOBILENET_RANDOM });
  photo = await solidJpeg([200, 60, 30]);
  await publishTestHead(store, 'pets-1', ['bird', 'cat', 'dog']);
});

afterAll(() => routes?.dispose());

const classify = async (query: Record<string, string>) => parseAnswer(await serve(routes.routes)(imageEvent(photo, 'image/jpeg', query)));

describe('the review queue', () => {
  it('review=true keeps the image with its prediction and features; a label files it in the dataset, extracted', async () => {
    const answer = await classify({ head: 'pets-1', review: 'true' });
    expect(answer.status).toBe(200);
    const { id, reason } = answer.body.results[0].review;
    expect(reason).toBe('requested');
    expect(id).toMatch(/^pets~[0-9a-f]{32}$/);

    const listed = await api.call('GET', '/reviews', { query: { dataset: 'pets' } });
    expect(listed.status).toBe(200);
    expect(listed.body.reviews).toEqual([
      expect.objectContaining({ id, dataset: 'pets', reason: 'requested', predictions: answer.body.predictions, model: 'mobilenet_v2', head: 'pets-1', format: 'jpg', sha256: sha256Hex(photo) }),
    ]);
    expect(await store.exists(featureKey(MOBILENET_RANDOM, sha256Hex(photo)))).toBe(true);

    const labelled = await api.call('POST', `/reviews/${id}`, { body: { label: 'cat' } });
    expect(labelled.status).toBe(200);
    expect(labelled.body.key).toBe(`images/pets/cat/review-${id.split('~')[1]}.jpg`);
    expect(await store.get(labelled.body.key)).toEqual(photo);
    const index = await buildDatasetIndex(store, MOBILENET_RANDOM, 'pets');
    expect(index.images.find((i) => i.key === labelled.body.key)).toMatchObject({ label: 'cat', status: 'extracted', sha256: sha256Hex(photo) });
    expect((await api.call('GET', '/reviews', { query: { dataset: 'pets' } })).body.reviews).toEqual([]);
    expect((await api.call('POST', `/reviews/${id}`, { body: { label: 'cat' } })).status).toBe(404);
  });

  it('minConfidence keeps only predictions under it, in the named dataset; DELETE discards', async () => {
    expect((await classify({ head: 'pets-1', minConfidence: '0' })).body.results[0].review).toBeUndefined();
    const kept = (await classify({ minConfidence: '1', dataset: 'inbox' })).body.results[0].review;
    expect(kept.reason).toBe('lowConfidence');
    const [review] = (await api.call('GET', '/reviews', { query: { dataset: 'inbox' } })).body.reviews;
    expect(review).toMatchObject({ id: kept.id, minConfidence: 1, model: 'mobilenet_v2' });
    expect(review.head).toBeUndefined();

    expect((await api.call('DELETE', `/reviews/${kept.id}`)).body).toEqual({ id: kept.id, discarded: true });
    const left = [];
    for await (const o of store.listAll('reviews/inbox/')) left.push(o.key);
    expect(left).toEqual([]);
    expect((await api.call('DELETE', `/reviews/${kept.id}`)).body.error.code).toBe('ReviewNotFound');
  });

  it('says what is wrong with a bad request', async () => {
    const noDataset = await classify({ review: 'true' });
    expect(noDataset.status).toBe(400);
    expect(noDataset.body.error.message).toContain("add 'dataset=<name>'");
    expect((await classify({ minConfidence: '2', dataset: 'inbox' })).body.error.message).toContain("'minConfidence' must be a number from 0 to 1");
    const { review } = (await classify({ review: 'true', dataset: 'inbox' })).body.results[0];
    const bad = await api.call('POST', `/reviews/${review.id}`, { body: { label: '../up' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("'label' must be the class folder");
    expect((await api.call('GET', '/reviews')).body.error.message).toContain('?dataset=<name>');
    expect((await api.call('POST', '/reviews/not-an-id', { body: { label: 'cat' } })).status).toBe(404);
  });
});
