import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { runTrainingJob } from '../../../src/heads/job.js';
import { createJob } from '../../../src/jobs/index.js';
import { publishHead } from '../../../src/registry/index.js';
import { StoreUnavailableError } from '../../../src/store/index.js';
import { NS, THREE_CLASSES, writeDataset } from '../jobs/fixtures.js';
import { draftHead } from '../registry/fixtures.js';
import { createApiHandler } from '../../../functions/api/handler.js';
import { apiEvent, lambdaContext, parseResult } from '../../helpers/events.js';
import { testApi } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

async function publish(api: ReturnType<typeof testApi>, headId: string, createdAt?: string) {
  const draft = draftHead(headId, { createdAt });
  await publishHead(api.store, draft);
  draft.model.dispose();
}

describe('GET /models, GET /models/{id}, DELETE /models/{id}', () => {
  it('lists, shows and deletes published heads', async () => {
    const api = testApi();
    await publish(api, 'pets-a', '2025-01-01T00:00:00.000Z');
    await publish(api, 'pets-b', '2025-02-01T00:00:00.000Z');
    const list = await api.call('GET', '/models');
    expect(list.status).toBe(200);
    expect(list.body.models.map((m: { headId: string }) => m.headId)).toEqual(['pets-b', 'pets-a']);
    expect(list.body.models[0]).toMatchObject({ dataset: 'pets', labels: ['cat', 'dog', 'fox'], model: 'densenet121', accuracy: 2 / 3 });

    const one = await api.call('GET', '/models/pets-a');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ headId: 'pets-a', labels: ['cat', 'dog', 'fox'], metrics: { accuracy: 2 / 3, confusionMatrix: [[1, 0, 0], [0, 1, 0], [0, 1, 0]] } });
    expect(one.body.metrics.perClass.cat).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 });

    expect(await api.call('DELETE', '/models/pets-a')).toMatchObject({ status: 200, body: { headId: 'pets-a', deleted: true } });
    expect((await api.call('GET', '/models')).body.models.map((m: { headId: string }) => m.headId)).toEqual(['pets-b']);
    expect(await api.call('GET', '/models/pets-a')).toMatchObject({ status: 404, body: { error: { code: 'HeadNotFound' } } });
    expect(await api.call('DELETE', '/models/pets-a')).toMatchObject({ status: 404, body: { error: { code: 'HeadNotFound' } } });
  });

  it('shows an empty registry as an empty list, and a half-published head not at all', async () => {
    const api = testApi();
    await api.store.put('models/heads/half/model.json', '{}');
    expect(await api.call('GET', '/models')).toMatchObject({ status: 200, body: { models: [] } });
    expect((await api.call('GET', '/models/half')).status).toBe(404);
  });

  it('400 for a malformed head id', async () => {
    const res = await testApi().call('GET', '/models/a%20b');
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'InvalidArgument' } } });
    expect(res.body.error.message).toContain('Invalid head id "a b"');
  });
});

describe('GET /datasets/{name}', () => {
  it('counts images, extracted, failed and pending per label, lists failures, and says it is ready to train', async () => {
    const api = testApi();
    await writeDataset(api.store, 'pets', { labels: { cat: 4, dog: 3 }, pending: { cat: 1 }, failed: { dog: 2 } });
    const res = await api.call('GET', '/datasets/pets');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dataset: 'pets',
      namespace: 'densenet121@0123456789abcdef/avg_pool',
      labels: { cat: { images: 5, extracted: 4, failed: 0, pending: 1 }, dog: { images: 5, extracted: 3, failed: 2, pending: 0 } },
      totals: { images: 10, extracted: 7, failed: 2, pending: 1 },
      training: { ready: true },
      failuresTruncated: false,
    });
    expect(res.body.failures).toEqual([
      { key: 'images/pets/dog/3.png', label: 'dog', code: 'UnsupportedImage', reason: 'not an image' },
      { key: 'images/pets/dog/4.png', label: 'dog', code: 'UnsupportedImage', reason: 'not an image' },
    ]);
  });

  it('says why a dataset is not trainable yet', async () => {
    const api = testApi();
    await writeDataset(api.store, 'pets', { labels: { cat: 4 }, pending: { dog: 3 } });
    const res = await api.call('GET', '/datasets/pets');
    expect(res.body.training).toEqual({
      ready: false,
      error: { code: 'MissingFeatures', message: expect.stringContaining("'dog' (3 images: 3 pending, 0 failed)") },
    });
  });

  it('404 for an unknown dataset, 400 for an invalid name', async () => {
    const api = testApi();
    await writeDataset(api.store, 'pets', THREE_CLASSES);
    expect(await api.call('GET', '/datasets/cars')).toMatchObject({ status: 404, body: { error: { code: 'UnknownDataset', message: expect.stringContaining("known datasets: 'pets'") } } });
    expect(await api.call('GET', '/datasets/.hidden')).toMatchObject({ status: 400, body: { error: { code: 'InvalidArgument' } } });
  });
});

describe('POST /uploads', () => {
  it('presigns a PUT to images/<dataset>/<label>/<file>', async () => {
    const api = testApi({ uploadTtlSeconds: 600 });
    const res = await api.call('POST', '/uploads', { body: { dataset: 'pets', label: 'cat', file: 'Tom 01.jpg', contentType: 'image/jpeg' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      key: 'images/pets/cat/Tom 01.jpg',
      url: 'https://bucket.example/images/pets/cat/Tom 01.jpg?signed=1',
      method: 'PUT',
      headers: { 'content-type': 'image/jpeg' },
      expiresIn: 600,
    });
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(api.uploads.calls).toEqual([{ key: 'images/pets/cat/Tom 01.jpg', contentType: 'image/jpeg', expiresIn: 600 }]);
  });

  it.each([
    [{ label: 'cat', file: 'a.jpg' }, "'dataset' is required"],
    [{ dataset: 'pets', label: '..', file: 'a.jpg' }, "'label' must be one path segment"],
    [{ dataset: 'pets', label: 'cat', file: 'x/../../jobs/a.json' }, "'file' must be one path segment"],
    [{ dataset: 'pets', label: 'cat', file: 'a.pdf', contentType: 'application/pdf' }, "Unsupported contentType \"application/pdf\": expected 'image/jpeg', 'image/png'"],
    [{ dataset: 'pets', label: 'cat', file: 'a.jpg', size: 3 }, "Unknown field 'size': expected 'dataset', 'label', 'file' or 'contentType'."],
  ])('400 for %j', async (body, message) => {
    const api = testApi();
    const res = await api.call('POST', '/uploads', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect(api.uploads.calls).toEqual([]);
  });
});

describe('routing and errors', () => {
  it('405 with Allow for a known path and another method; 404 listing the routes for an unknown path', async () => {
    const api = testApi();
    const res = await api.call('PUT', '/models/x');
    expect(res).toMatchObject({ status: 405, body: { error: { code: 'MethodNotAllowed', message: "Method PUT is not allowed on /models/{id}: use 'GET' or 'DELETE'." } } });
    expect(res.headers.allow).toBe('GET, DELETE');
    const missing = await api.call('GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: 'RouteNotFound',
      message:
        "No route for GET /nope: the API has 'POST /train', 'GET /train/defaults', 'GET /jobs/{id}', 'POST /jobs/{id}/resume', 'POST /jobs/{id}/stop', 'GET /models', 'GET /models/{id}', 'DELETE /models/{id}', 'GET /datasets', 'GET /datasets/{name}', 'POST /uploads', 'POST /backfill', 'GET /datasets/{name}/issues', 'POST /similar', 'GET /reviews', 'POST /reviews/{id}', 'DELETE /reviews/{id}', 'POST /predict' or 'GET /jobs/{id}/results'.",
    });
  });

  it('serves extra routes given from outside (POST /classify lives in another function)', async () => {
    const api = testApi({ routes: [{ method: 'POST', path: '/classify', handler: async (req) => ({ statusCode: 200, body: { echo: req.json() } }) }] });
    expect(await api.call('POST', '/classify', { body: { headId: 'x' } })).toMatchObject({ status: 200, body: { echo: { headId: 'x' } } });
  });

  it('decodes base64 bodies', async () => {
    const api = testApi();
    const res = await api.call('POST', '/uploads', { body: { dataset: 'pets', label: 'cat', file: 'a.png' }, base64: true });
    expect(res.status).toBe(200);
  });

  it('500 without the stack for our faults; 503 for a transient storage error', async () => {
    const api = testApi();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    api.store.listAll = () => {
      throw new TypeError('secret internals at /var/task/index.mjs:1:2');
    };
    const res = await api.call('GET', '/models');
    expect(res).toEqual({
      status: 500,
      headers: expect.any(Object),
      body: { error: { code: 'InternalError', message: 'Internal error; the API logs have the details (request id test-invocation).' } },
    });
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('secret internals'));
    api.store.listAll = () => {
      throw new StoreUnavailableError('SlowDown');
    };
    expect(await api.call('GET', '/models')).toMatchObject({ status: 503, headers: { 'retry-after': '5' }, body: { error: { code: 'StoreUnavailable' } } });
    errors.mockRestore();
  });

  it('500 ServiceMisconfigured when the dependencies cannot be built', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const handler = createApiHandler(async () => {
      throw new Error('HEADSTART_BUCKET is not set');
    });
    const res = parseResult(await handler(apiEvent('GET', '/models'), lambdaContext()));
    errors.mockRestore();
    expect(res).toMatchObject({ status: 500, body: { error: { code: 'ServiceMisconfigured', message: 'The API cannot start: HEADSTART_BUCKET is not set' } } });
  });
});

describe('a job trained through the API', () => {
  it('is visible at GET /jobs/{id} while running and after, and its head at GET /models', async () => {
    const api = testApi();
    await writeDataset(api.store, 'pets', THREE_CLASSES);
    const job = await createJob(api.store, { dataset: 'pets', head: { hidden: [8], epochs: 3 } });
    const seen: string[] = [];
    const done = await runTrainingJob(api.store, job.jobId, {
      namespace: NS,
      onEpoch: async () => {
        seen.push((await api.call('GET', `/jobs/${job.jobId}`)).body.status);
      },
    });
    expect(seen).toEqual(['running', 'running', 'running']);
    expect((await api.call('GET', `/jobs/${job.jobId}`)).body).toMatchObject({ status: 'succeeded', headId: done.headId, progress: { epoch: 3, epochs: 3 } });
    expect((await api.call('GET', '/models')).body.models.map((m: { headId: string }) => m.headId)).toEqual([done.headId]);
  });
});
