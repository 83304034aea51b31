import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { readJob } from '../../../src/jobs/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { FAST_HEAD, THREE_CLASSES, writeDataset } from '../jobs/fixtures.js';
import { LaunchError } from '../../../functions/api/launchers.js';
import { RecordingLauncher, testApi } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

async function apiWithPets() {
  const api = testApi();
  await writeDataset(api.store, 'pets', THREE_CLASSES);
  return api;
}

describe('POST /train', () => {
  it('records a queued job, hands it to the launcher and answers 202 with its id', async () => {
    const api = await apiWithPets();
    const res = await api.call('POST', '/train', { body: { dataset: 'pets', head: { hidden: [64], epochs: 20 } } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ jobId: expect.stringMatching(/^job-\d{8}-\d{6}-[0-9a-f]{8}$/), kind: 'train', status: 'queued', location: `/jobs/${res.body.jobId}` });
    expect(res.headers.location).toBe(`/jobs/${res.body.jobId}`);
    expect((api.launcher as RecordingLauncher).launched).toEqual([res.body.jobId]);
    const job = await readJob(api.store, res.body.jobId);
    expect(job).toMatchObject({
      status: 'queued',
      kind: 'train',
      request: { dataset: 'pets', head: { hidden: [64], epochs: 20 } },
      progress: { epoch: 0, epochs: 20, loss: null },
      startedAt: null,
    });
  });

  it.each([
    ['not JSON', '{"dataset": ', 'InvalidJson', 'The request body is not valid JSON'],
    ['no body', undefined, 'InvalidTrainRequest', 'The request body must be a JSON object'],
    ['no dataset', { head: {} }, 'InvalidTrainRequest', "'dataset' is required"],
    ['an unknown field', { dataset: 'pets', epochs: 5 }, 'InvalidTrainRequest', "Unknown field 'epochs': expected 'dataset', 'validationDataset', 'model', 'namespace' or 'head'."],
    ['a bad dataset name', { dataset: '../jobs' }, 'InvalidArgument', "Invalid dataset name '../jobs'"],
    ['an unknown model', { dataset: 'pets', model: 'alexnet' }, 'InvalidTrainRequest', "Unknown model 'alexnet': expected 'vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2' or 'densenet121'."],
    ['an unknown activation', { dataset: 'pets', head: { activation: 'mish' } }, 'InvalidTrainRequest', "head: Unknown activation 'mish': expected 'relu', 'relu6'"],
    ['an unknown head field', { dataset: 'pets', head: { lr: 0.1 } }, 'InvalidTrainRequest', "head: Unknown HeadSpec field 'lr': expected 'hidden', 'activation'"],
    ['dropout out of range', { dataset: 'pets', head: { dropout: 1 } }, 'InvalidTrainRequest', 'head: HeadSpec.dropout must be a number with 0 ≤ dropout < 1, got 1.'],
    ['too many epochs', { dataset: 'pets', head: { epochs: 5000 } }, 'InvalidTrainRequest', 'head.epochs must be at most 1000, got 5000.'],
    ['too wide a layer', { dataset: 'pets', head: { hidden: [100000] } }, 'InvalidTrainRequest', 'head.hidden units must be from 1 to 8192, got 100000.'],
    ['the same validation dataset', { dataset: 'pets', validationDataset: 'pets' }, 'InvalidTrainRequest', "'validationDataset' must differ from 'dataset'"],
    ['another base model', { dataset: 'pets', model: 'resnet50' }, 'BaseModelMismatch', "asks for model 'resnet50', but this service extracts features with 'densenet121'"],
  ])('400 for %s', async (_, body, code, message) => {
    const api = await apiWithPets();
    const res = await api.call('POST', '/train', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toContain(message);
    expect((api.launcher as RecordingLauncher).launched).toEqual([]);
  });

  it('404 for a dataset with no images, listing the known ones; nothing is recorded', async () => {
    const api = await apiWithPets();
    const res = await api.call('POST', '/train', { body: { dataset: 'cars' } });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'UnknownDataset', message: "Dataset 'cars' has no images under images/cars/<label>/ (known datasets: 'pets')." } } });
    const res2 = await api.call('POST', '/train', { body: { dataset: 'pets', validationDataset: 'pets-val' } });
    expect(res2.body.error.code).toBe('UnknownDataset');
    const jobs = [];
    for await (const o of api.store.listAll('jobs/')) jobs.push(o.key);
    expect(jobs).toEqual([]);
  });

  it('500 when the launcher fails, and the job record says why', async () => {
    const launcher = new RecordingLauncher();
    launcher.failWith = new LaunchError('Could not start the train function: throttled');
    const store = new MemoryStore();
    await writeDataset(store, 'pets', THREE_CLASSES);
    const api = testApi({ store, launcher });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await api.call('POST', '/train', { body: { dataset: 'pets' } });
    errors.mockRestore();
    expect(res).toMatchObject({ status: 500, body: { error: { code: 'LaunchFailed', message: 'Could not start the train function: throttled' } } });
    const keys = [];
    for await (const o of store.listAll('jobs/')) keys.push(o.key);
    const job = await readJob(store, keys[0]!.slice('jobs/'.length, -'.json'.length));
    expect(job).toMatchObject({ status: 'failed', error: { code: 'LaunchFailed', message: 'Could not start the train function: throttled' } });
  });
});

describe('GET /jobs/{id}', () => {
  it('answers the job record', async () => {
    const api = await apiWithPets();
    const { body } = await api.call('POST', '/train', { body: { dataset: 'pets', head: FAST_HEAD } });
    const res = await api.call('GET', `/jobs/${body.jobId}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(await readJob(api.store, body.jobId));
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('matches API Gateway events by resource template and path parameters', async () => {
    const api = await apiWithPets();
    const { body } = await api.call('POST', '/train', { body: { dataset: 'pets' } });
    const res = await api.call('GET', `/jobs/${body.jobId}`, { resource: '/jobs/{id}' });
    expect(res.body.jobId).toBe(body.jobId);
  });

  it('404 for an unknown job, 400 for a malformed id', async () => {
    const api = testApi();
    expect(await api.call('GET', '/jobs/job-20250101-000000-00000000')).toMatchObject({
      status: 404,
      body: { error: { code: 'JobNotFound', message: "No job 'job-20250101-000000-00000000': POST /train returns the id of the job it starts." } },
    });
    expect(await api.call('GET', '/jobs/..%2Fmodels')).toMatchObject({
      status: 400,
      body: { error: { code: 'InvalidArgument', message: `Invalid job id "../models": job ids look like 'job-20250101-120000-0123abcd'.` } },
    });
  });
});
