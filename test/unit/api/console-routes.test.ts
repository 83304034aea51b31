import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../../functions/api/handler.js';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import { thumbnailRoutes, THUMBNAILS_PREFIX } from '../../../functions/api/routes/thumbnails.js';
import { DEFAULT_AUGMENT, FINETUNE_DEFAULTS } from '../../../src/finetune/request.js';
import { DEFAULT_HEAD_SPEC } from '../../../src/heads/spec.js';
import { queuedJob, readJob, writeJob } from '../../../src/jobs/index.js';
import { stopKey, watchForStop } from '../../../src/jobs/stop.js';
import { MemoryStore } from '../../../src/store/index.js';
import { apiEvent, lambdaContext } from '../../helpers/events.js';
import { makeJpeg } from '../../helpers/images.js';
import { FakeSigner, RecordingLauncher, testApi } from './fixtures.js';
import { NS } from '../jobs/fixtures.js';

/** The routes the console relies on besides the README's: thumbnails, the dataset list, a label's images, the form's defaults, stop. */
describe('GET /thumbnails', () => {
  const store = new MemoryStore();
  const handler = createHttpHandler(async () => [...apiRoutes({ store, namespace: async () => NS, launcher: new RecordingLauncher(), uploads: new FakeSigner() }), ...thumbnailRoutes({ store })]);
  const get = async (query: Record<string, string>) => handler(apiEvent('GET', '/thumbnails', { query }), lambdaContext());

  it('serves a JPEG of an image under images/, its longer side the size asked, and caches it under thumbnails/', async () => {
    await store.put('images/pets/cat/a.png', await sharp({ create: { width: 300, height: 150, channels: 4, background: { r: 200, g: 10, b: 10, alpha: 0.5 } } }).png().toBuffer());
    const first = await get({ key: 'images/pets/cat/a.png', size: '100' });
    expect(first.statusCode).toBe(200);
    expect(first.isBase64Encoded).toBe(true);
    expect(first.headers).toMatchObject({ 'content-type': 'image/jpeg', 'x-thumbnail-cache': 'miss' });
    const jpeg = Buffer.from(first.body, 'base64');
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 100, height: 50 });
    expect(await store.exists(`${THUMBNAILS_PREFIX}100/pets/cat/a.png.jpg`)).toBe(true);
    const second = await get({ key: 'images/pets/cat/a.png', size: '100' });
    expect(second.headers).toMatchObject({ 'x-thumbnail-cache': 'hit' });
    expect(second.body).toBe(first.body);
  });

  it('makes a new thumbnail when the image is uploaded again', async () => {
    await store.put('images/pets/dog/b.jpg', await makeJpeg(1, 64));
    const before = await get({ key: 'images/pets/dog/b.jpg' });
    await store.put('images/pets/dog/b.jpg', await makeJpeg(2, 64));
    const after = await get({ key: 'images/pets/dog/b.jpg' });
    expect(after.headers).toMatchObject({ 'x-thumbnail-cache': 'miss' });
    expect(after.body).not.toBe(before.body);
    expect((await sharp(Buffer.from(after.body, 'base64')).metadata()).width).toBe(160);
  });

  it('reaches nothing outside images/: other prefixes and path tricks are 400, a missing image 404, bytes that are no image 400 (NotAnImage has one status, as for POST /classify)', async () => {
    await store.put('models/heads/h/head.json', '{}');
    await store.put('images/pets/cat/notes.txt', 'not an image');
    for (const key of ['models/heads/h/head.json', 'images/../models/heads/h/head.json', 'images/pets/./cat/a.png', 'images//a.png', 'imagesx/a.png', '', 'images/a\\b.png']) {
      const result = await get({ key });
      expect([result.statusCode, JSON.parse(result.body).error.code], key).toEqual([400, 'InvalidArgument']);
    }
    expect(JSON.parse((await get({ key: 'images/pets/cat/a.png', size: '5000' })).body).error.message).toContain('from 32 to 512');
    expect((await get({ key: 'images/pets/cat/missing.png' })).statusCode).toBe(404);
    const bad = await get({ key: 'images/pets/cat/notes.txt' });
    expect([bad.statusCode, JSON.parse(bad.body).error.code]).toEqual([400, 'NotAnImage']);
    expect(await store.exists('thumbnails/160/pets/cat/notes.txt.jpg')).toBe(false);
  });
});

describe('dataset routes for the console', () => {
  it('GET /datasets lists the folders under images/; ?label= adds that label’s images with their status', async () => {
    const api = testApi();
    expect((await api.call('GET', '/datasets')).body).toEqual({ datasets: [] });
    await api.store.put('images/pets/cat/a.jpg', await makeJpeg(1));
    await api.store.put('images/pets/dog/b.jpg', await makeJpeg(2));
    await api.store.put('images/flowers/rose/c.jpg', await makeJpeg(3));
    expect((await api.call('GET', '/datasets')).body).toEqual({ datasets: [{ name: 'flowers' }, { name: 'pets' }] });
    const withLabel = await api.call('GET', '/datasets/pets', { resource: '/datasets/{name}', query: { label: 'dog' } });
    expect(withLabel.body.images).toEqual([{ key: 'images/pets/dog/b.jpg', status: 'pending' }]);
    expect(withLabel.body.imagesTruncated).toBe(false);
    expect((await api.call('GET', '/datasets/pets', { resource: '/datasets/{name}' })).body.images).toBeUndefined();
  });
});

describe('GET /train/defaults', () => {
  it("is what POST /train fills in: the head spec, fine-tuning settings and the base's blocks, last first", async () => {
    const { body } = await testApi({ namespace: async () => ({ ...NS, model: 'densenet121' }) }).call('GET', '/train/defaults');
    expect(body.model).toBe('densenet121');
    expect(body.head).toEqual(JSON.parse(JSON.stringify(DEFAULT_HEAD_SPEC)));
    expect(body.finetune).toMatchObject({ epochs: FINETUNE_DEFAULTS.epochs, learningRate: FINETUNE_DEFAULTS.learningRate, batchSize: FINETUNE_DEFAULTS.batchSize, augment: DEFAULT_AUGMENT });
    expect(body.finetune.weights).toBeUndefined();
    expect(body.finetune.unfreeze.slice(0, 2)).toEqual(['conv5', 'pool4']);
  });
});

describe('POST /jobs/{id}/stop', () => {
  it('records a stop request that the running job sees; a finished job answers 409', async () => {
    const api = testApi();
    const job = queuedJob({ dataset: 'pets' });
    await writeJob(api.store, job);
    const watch = watchForStop(api.store, job.jobId, undefined, 10);
    const stopped = await api.call('POST', `/jobs/${job.jobId}/stop`, { resource: '/jobs/{id}/stop' });
    expect(stopped.status).toBe(202);
    expect(stopped.body).toMatchObject({ jobId: job.jobId, stopRequested: true });
    expect(await api.store.exists(stopKey(job.jobId))).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(watch.signal.aborted).toBe(true);
    expect(watch.signal.reason).toMatchObject({ code: 'JobStopped' });
    watch.close();

    await writeJob(api.store, { ...(await readJob(api.store, job.jobId)), status: 'succeeded' });
    const again = await api.call('POST', `/jobs/${job.jobId}/stop`, { resource: '/jobs/{id}/stop' });
    expect([again.status, again.body.error.code]).toEqual([409, 'JobFinished']);
    expect((await api.call('POST', '/jobs/job-20260101-000000-bbbbbbbb/stop', { resource: '/jobs/{id}/stop' })).status).toBe(404);
  });
});
