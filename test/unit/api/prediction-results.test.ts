import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { createJob, createPredictJob, readJob, writeJob } from '../../../src/jobs/index.js';
import { predictionResultsKey } from '../../../src/layout.js';
import { runPredictJob } from '../../../src/predict/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import type { DownloadSigner } from '../../../functions/api/uploads.js';
import { RESULTS_PAGE } from '../../../functions/api/routes/predictions.js';
import { runTrainingJob } from '../../../src/heads/job.js';
import { apiEvent, lambdaContext } from '../../helpers/events.js';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import { apiRoutes } from '../../../functions/api/handler.js';
import { FakeSigner } from './fixtures.js';
import { FAST_HEAD, NS, quietLogs, writeDataset } from '../jobs/fixtures.js';
import { testApi } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

/** shop: 4 cat and 3 dog images with cached features, 2 dog images never extracted (they fail NotExtracted: no extraction here). */
async function finishedJob() {
  const store = new MemoryStore();
  await writeDataset(store, 'shop', { labels: { cat: 4, dog: 3 }, pending: { dog: 2 } });
  const train = await createJob(store, { dataset: 'shop', head: FAST_HEAD });
  const { headId } = await runTrainingJob(store, train.jobId, { namespace: NS });
  const job = await createPredictJob(store, { dataset: 'shop', head: headId!, top: 2 });
  const done = await runPredictJob(store, job.jobId, { namespace: NS, progressEveryMs: 0 });
  expect(done.status).toBe('succeeded');
  return { store, jobId: job.jobId, headId: headId! };
}

class RecordingDownloads implements DownloadSigner {
  readonly calls: Array<{ key: string; fileName?: string; expiresIn: number }> = [];
  async presignGet(key: string, options: { fileName?: string; expiresIn: number }): Promise<string> {
    this.calls.push({ key, ...options });
    return `https://bucket.example/${key}?signed=get`;
  }
}

const results = (jobId: string, query: Record<string, string> = {}) => ['GET', `/jobs/${jobId}/results`, { resource: '/jobs/{id}/results', query }] as const;

describe('GET /jobs/{id}/results', () => {
  it('pages through results.jsonl in key order: rows as written, total from the record, nextOffset until the last page', async () => {
    const { store, jobId } = await finishedJob();
    const api = testApi({ store });
    const all = (await store.get(predictionResultsKey(jobId, 'jsonl'))).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(all).toHaveLength(9);

    const first = await api.call(...results(jobId, { limit: '4' }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ jobId, offset: 0, limit: 4, total: 9, nextOffset: 4, files: { jsonl: predictionResultsKey(jobId, 'jsonl'), csv: predictionResultsKey(jobId, 'csv') } });
    expect(first.body.rows).toEqual(all.slice(0, 4));
    expect(first.body.rows[0]).toMatchObject({ key: 'images/shop/cat/0.png', label: expect.any(String), probability: expect.any(Number), source: 'cached' });
    expect(first.body.rows[0].top).toHaveLength(2);
    const second = await api.call(...results(jobId, { offset: '4', limit: '4' }));
    expect(second.body.rows).toEqual(all.slice(4, 8));
    const last = await api.call(...results(jobId, { offset: '8', limit: '4' }));
    expect(last.body).toMatchObject({ offset: 8, nextOffset: null });
    expect(last.body.rows).toEqual(all.slice(8));
    // Exactly a page left: no next page.
    expect((await api.call(...results(jobId, { offset: '5', limit: '4' }))).body.nextOffset).toBeNull();
    expect((await api.call(...results(jobId, { offset: '20' }))).body).toMatchObject({ rows: [], nextOffset: null });
    expect((await api.call(...results(jobId))).body.limit).toBe(RESULTS_PAGE.default);
  });

  it('only=failed lists the images that failed with their error, only=predicted the others', async () => {
    const { store, jobId } = await finishedJob();
    const api = testApi({ store });
    const failed = await api.call(...results(jobId, { only: 'failed' }));
    expect(failed.body.rows).toEqual([
      { key: 'images/shop/dog/3.png', error: { code: 'NotExtracted', message: expect.any(String) } },
      { key: 'images/shop/dog/4.png', error: { code: 'NotExtracted', message: expect.any(String) } },
    ]);
    expect(failed.body).toMatchObject({ only: 'failed', total: 9, nextOffset: null });
    const predicted = await api.call(...results(jobId, { only: 'predicted', offset: '1', limit: '5' }));
    expect(predicted.body.rows.map((r: { key: string }) => r.key)).toEqual(['cat/1', 'cat/2', 'cat/3', 'dog/0', 'dog/1'].map((k) => `images/shop/${k}.png`));
    expect(predicted.body.nextOffset).toBe(6);
  });

  it('format=csv|jsonl: a 303 to a presigned GET (its URL as JSON for Accept: application/json), or the file itself without a signer', async () => {
    const { store, jobId } = await finishedJob();
    const downloads = new RecordingDownloads();
    const signed = testApi({ store, downloads });
    const redirect = await signed.call(...results(jobId, { format: 'csv' }));
    expect(redirect.status).toBe(303);
    expect(redirect.headers.location).toBe(`https://bucket.example/${predictionResultsKey(jobId, 'csv')}?signed=get`);
    expect(downloads.calls[0]).toEqual({ key: predictionResultsKey(jobId, 'csv'), fileName: `${jobId}-results.csv`, expiresIn: 900 });
    const json = await signed.call('GET', `/jobs/${jobId}/results`, { resource: '/jobs/{id}/results', query: { format: 'jsonl' }, headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ url: expect.stringContaining('results.jsonl'), fileName: `${jobId}-results.jsonl`, bytes: (await store.head(predictionResultsKey(jobId, 'jsonl')))!.size });

    const handler = createHttpHandler(async () => apiRoutes({ store, namespace: async () => NS, launcher: { launch: async () => undefined }, uploads: new FakeSigner() }));
    const plain = await handler(apiEvent('GET', `/jobs/${jobId}/results`, { query: { format: 'csv' } }), lambdaContext());
    expect(plain.statusCode).toBe(200);
    expect(plain.headers).toMatchObject({ 'content-type': expect.stringContaining('text/csv'), 'content-disposition': `attachment; filename="${jobId}-results.csv"` });
    expect(Buffer.from(plain.body, 'base64').toString()).toBe((await store.get(predictionResultsKey(jobId, 'csv'))).toString());
  });

  it('409 ResultsNotReady while the job runs or when it failed first, 400 for a training job, 404 for no job, 400 for bad paging', async () => {
    const { store, jobId, headId } = await finishedJob();
    const api = testApi({ store });
    const queued = await createPredictJob(store, { dataset: 'shop', head: headId });
    const notYet = await api.call(...results(queued.jobId));
    expect(notYet).toMatchObject({ status: 409, body: { error: { code: 'ResultsNotReady', message: expect.stringContaining('it is queued') } } });
    await writeJob(store, { ...(await readJob(store, queued.jobId)), status: 'failed', error: { code: 'HeadNotFound', message: 'gone' } });
    expect((await api.call(...results(queued.jobId))).body.error.message).toContain('it failed before writing them (HeadNotFound: gone)');
    const training = await createJob(store, { dataset: 'shop' });
    expect(await api.call(...results(training.jobId))).toMatchObject({ status: 400, body: { error: { code: 'InvalidArgument', message: expect.stringContaining('train job') } } });
    expect((await api.call(...results('job-20250101-000000-abcdef12'))).status).toBe(404);
    for (const [query, text] of [
      [{ limit: '0' }, "'limit' must be an integer from 1 to 500"],
      [{ limit: '501' }, "'limit' must be an integer from 1 to 500"],
      [{ offset: '-1' }, "'offset' must be an integer"],
      [{ offset: '1.5' }, "'offset' must be an integer"],
      [{ only: 'good' }, "'only' must be one of"],
      [{ format: 'xlsx' }, "'format' must be one of"],
    ] as const) {
      expect(await api.call(...results(jobId, query)), JSON.stringify(query)).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining(text) } } });
    }
  });
});
