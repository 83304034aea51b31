import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { readJob, type PredictJobRecord } from '../../../src/jobs/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { publishTestHead } from '../classify-api/heads.js';
import { NS, quietLogs, writeDataset } from '../jobs/fixtures.js';
import { finetunedPointerKey } from '../../../src/finetune/keys.js';
import { LaunchError } from '../../../functions/api/launchers.js';
import { RecordingLauncher, testApi } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

async function apiWithHead() {
  const store = new MemoryStore();
  await writeDataset(store, 'shop', { labels: { cat: 2, dog: 2 } });
  await publishTestHead(store, 'shop-head', ['cat', 'dog'], NS);
  const predictLauncher = new RecordingLauncher();
  const modelPredictLauncher = new RecordingLauncher();
  return { api: testApi({ store, predictLauncher, modelPredictLauncher }), predictLauncher, modelPredictLauncher };
}

describe('POST /predict', () => {
  it('queues a prediction job, hands it to the prediction launcher and answers 202 with the job to poll', async () => {
    const { api, predictLauncher } = await apiWithHead();
    const res = await api.call('POST', '/predict', { body: { dataset: 'shop', head: 'shop-head', top: 2, webhook: 'https://example.com/done' } });
    expect(res.status).toBe(202);
    const jobId = res.body.jobId as string;
    expect(res.body).toEqual({ jobId, kind: 'predict', status: 'queued', location: `/jobs/${jobId}` });
    expect(res.headers.location).toBe(`/jobs/${jobId}`);
    expect(predictLauncher.launched).toEqual([jobId]);
    expect(await readJob(api.store, jobId)).toMatchObject({ kind: 'predict', status: 'queued', request: { dataset: 'shop', head: 'shop-head', top: 2, webhook: 'https://example.com/done' } });
    const shown = await api.call('GET', `/jobs/${jobId}`);
    expect(shown.body.progress.images).toEqual({ phase: 'listing', total: 0, cached: 0, extracted: 0, predicted: 0, failed: 0 });
  });

  it('hands a job with a model to the model launcher (the predict function in the cloud), a zoo id or a published fine-tuned model', async () => {
    const { api, predictLauncher, modelPredictLauncher } = await apiWithHead();
    const res = await api.call('POST', '/predict', { body: { dataset: 'shop', model: 'mobilenet_v2', top: 3 } });
    expect(res.status).toBe(202);
    expect(modelPredictLauncher.launched).toEqual([res.body.jobId]);
    expect(predictLauncher.launched).toEqual([]);
    expect(await readJob(api.store, res.body.jobId as string)).toMatchObject({ kind: 'predict', status: 'queued', request: { dataset: 'shop', model: 'mobilenet_v2', top: 3 } });
    await api.store.put(finetunedPointerKey('shop-tuned'), '{}');
    const tuned = await api.call('POST', '/predict', { body: { prefix: 'images/shop/cat/', model: 'shop-tuned' } });
    expect(tuned.status).toBe(202);
    expect(modelPredictLauncher.launched).toEqual([res.body.jobId, tuned.body.jobId]);
  });

  it('records the job failed when the model launcher cannot start it', async () => {
    const { api } = await apiWithHead();
    const modelPredictLauncher = new RecordingLauncher();
    modelPredictLauncher.failWith = new LaunchError("Could not start the predict function 'p': Rate exceeded");
    const failing = testApi({ store: api.store, predictLauncher: new RecordingLauncher(), modelPredictLauncher });
    const res = await failing.call('POST', '/predict', { body: { dataset: 'shop', model: 'mobilenet_v2' } });
    // Our fault (500, details in the logs); the job says why.
    expect(res.status).toBe(500);
    const jobs: PredictJobRecord[] = [];
    for await (const info of api.store.listAll('jobs/')) jobs.push(JSON.parse((await api.store.get(info.key)).toString()) as PredictJobRecord);
    expect(jobs).toEqual([expect.objectContaining({ kind: 'predict', status: 'failed', error: expect.objectContaining({ code: 'LaunchFailed', message: expect.stringContaining('the predict function') }) })]);
  });

  it.each([
    [{ dataset: 'shop', head: 'nope' }, 404, 'HeadNotFound'],
    [{ dataset: 'gone', head: 'shop-head' }, 404, 'UnknownDataset'],
    [{ prefix: 'images/shop/bird/', head: 'shop-head' }, 404, 'NoImages'],
    [{ dataset: 'shop', model: 'no-such-model' }, 404, 'ModelNotFound'],
    [{ dataset: 'shop', head: 'shop-head', webhook: 'ftp://example.com/' }, 400, 'InvalidPredictRequest'],
    [{ dataset: 'shop' }, 400, 'InvalidPredictRequest'],
  ])('refuses %j with %i %s and records no job', async (body, status, code) => {
    const { api, predictLauncher, modelPredictLauncher } = await apiWithHead();
    const res = await api.call('POST', '/predict', { body });
    expect(res).toMatchObject({ status, body: { error: { code } } });
    expect(predictLauncher.launched).toEqual([]);
    expect(modelPredictLauncher.launched).toEqual([]);
  });

  it('refuses a head trained on other features (409) and answers 409 where the deployment has no prediction runner, or none for a model on every image', async () => {
    const { api } = await apiWithHead();
    await publishTestHead(api.store, 'other-head', ['cat', 'dog'], { ...NS, layer: 'conv5_block16_concat' });
    expect(await api.call('POST', '/predict', { body: { dataset: 'shop', head: 'other-head' } })).toMatchObject({ status: 409, body: { error: { code: 'HeadBaseMismatch' } } });
    const cloud = testApi({ store: api.store, predictLauncher: new RecordingLauncher() });
    expect(await cloud.call('POST', '/predict', { body: { dataset: 'shop', model: 'densenet121' } })).toMatchObject({ status: 409, body: { error: { code: 'PredictUnavailable', message: expect.stringContaining("predict with it ('head')") } } });
    expect(await cloud.call('POST', '/predict', { body: { dataset: 'shop', head: 'shop-head' } })).toMatchObject({ status: 202 });
    const bare = testApi({ store: api.store });
    expect(await bare.call('POST', '/predict', { body: { dataset: 'shop', head: 'shop-head' } })).toMatchObject({ status: 409, body: { error: { code: 'PredictUnavailable' } } });
  });
});
