import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLocalApi } from '../../functions/api/local.js';
import { presignClient, S3UploadSigner } from '../../functions/api/uploads.js';
import { initBackend } from '../../src/engine/backend.js';
import { loadDatasetFeatures } from '../../src/features/shards.js';
import { predictHead } from '../../src/heads/index.js';
import { loadHead, publishHead } from '../../src/registry/index.js';
import { apiEvent, lambdaContext, parseResult } from '../helpers/events.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';
import { FAST_HEAD, NS, writeDataset } from '../unit/jobs/fixtures.js';
import { draftHead, recordingStore } from '../unit/registry/fixtures.js';

let s3: TestS3;
let api: ReturnType<typeof createLocalApi>;
const call = async (method: string, path: string, body?: unknown) => parseResult(await api.handler(apiEvent(method, path, { body }), lambdaContext()));

beforeAll(async () => {
  await initBackend();
  s3 = await startTestS3();
  const uploads = new S3UploadSigner(presignClient({ endpoint: s3.s3.endpoint }), s3.s3.bucket);
  api = createLocalApi({ store: s3.store, namespace: async () => NS, uploads });
  vi.spyOn(console, 'info').mockImplementation(() => {});
});

afterAll(async () => {
  await api?.launcher.close();
  await s3?.stop();
  vi.restoreAllMocks();
});

describe('training and the registry on the embedded S3 server', () => {
  it('POST /train trains from S3, publishes, GET /models lists the head and loadHead predicts', async () => {
    await writeDataset(s3.store, 'pets', { labels: { cat: 12, dog: 12, fox: 12 } });
    const started = await call('POST', '/train', { dataset: 'pets', head: FAST_HEAD });
    expect(started.status).toBe(202);
    await api.launcher.idle();
    const job = (await call('GET', `/jobs/${started.body.jobId}`)).body;
    expect(job).toMatchObject({ status: 'succeeded', progress: { epochs: 10 } });
    const models = (await call('GET', '/models')).body.models;
    expect(models.map((m: { headId: string }) => m.headId)).toContain(job.headId);
    expect((await call('GET', `/models/${job.headId}`)).body.metrics.accuracy).toBeGreaterThanOrEqual(0.8);

    const data = await loadDatasetFeatures(s3.store, NS, 'pets');
    const { model, head } = await loadHead(s3.store, job.headId);
    const probs = predictHead(model, data.features.subarray(0, 8), 8);
    model.dispose();
    expect(head.labels[probs.indexOf(Math.max(...probs))]).toBe(data.labels[0]);
  });

  it('a publish killed between files leaves a head GET /models does not show', async () => {
    const store = recordingStore(s3.store, { killAfterPuts: 2 });
    const draft = draftHead('killed-head');
    await expect(publishHead(store, draft)).rejects.toThrow('process killed');
    draft.model.dispose();
    const leftovers = [];
    for await (const o of s3.store.listAll('models/heads/killed-head/')) leftovers.push(o.key);
    expect(leftovers.sort()).toEqual(['models/heads/killed-head/model.json', 'models/heads/killed-head/weights.bin']);
    const models = (await call('GET', '/models')).body.models;
    expect(models.map((m: { headId: string }) => m.headId)).not.toContain('killed-head');
    expect((await call('GET', '/models/killed-head')).status).toBe(404);
  });

  it('DELETE /models/{id} removes the pointer and every file', async () => {
    const draft = draftHead('doomed');
    await publishHead(s3.store, draft);
    draft.model.dispose();
    expect((await call('DELETE', '/models/doomed')).status).toBe(200);
    const left = [];
    for await (const o of s3.store.listAll('models/heads/doomed/')) left.push(o.key);
    expect(left).toEqual([]);
  });

  it('POST /uploads hands out a URL the local server accepts a PUT on', async () => {
    const res = await call('POST', '/uploads', { dataset: 'pets', label: 'cat', file: 'new cat.png', contentType: 'image/png' });
    expect(res.status).toBe(200);
    expect(res.body.url).toMatch(new RegExp(`^${s3.s3.endpoint}/${s3.s3.bucket}/images/pets/cat/new%20cat\\.png\\?`));
    expect(res.body.url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum-algorithm/i);
    const bytes = Buffer.from('\x89PNG fake image bytes');
    const put = await fetch(res.body.url, { method: 'PUT', headers: res.body.headers, body: bytes });
    expect(put.status).toBe(200);
    expect(await s3.store.get('images/pets/cat/new cat.png')).toEqual(bytes);
  });
});
