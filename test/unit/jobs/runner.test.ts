import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { HeadstartError } from '../../../src/errors.js';
import { runTrainingJob, type RunJobOptions } from '../../../src/heads/job.js';
import { createJob, readJob, writeJob, type JobRecord, type TrainRequest } from '../../../src/jobs/index.js';
import { getHead, listHeads } from '../../../src/registry/index.js';
import { MemoryStore, type ObjectStore } from '../../../src/store/index.js';
import { FAST_HEAD, NS, THREE_CLASSES, quietLogs, writeDataset } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

async function run(store: ObjectStore, request: TrainRequest, options: Partial<RunJobOptions> = {}): Promise<JobRecord> {
  const job = await createJob(store, request);
  return runTrainingJob(store, job.jobId, { namespace: NS, ...options });
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys;
}

async function petsStore(spec = {}) {
  const store = new MemoryStore();
  await writeDataset(store, 'pets', { ...THREE_CLASSES, ...spec });
  return store;
}

describe('runTrainingJob', () => {
  it('trains, writes progress after every epoch, publishes the head and records it', async () => {
    const store = await petsStore({ pending: { cat: 2 }, failed: { dog: 1 } });
    const seen: Array<[number, number, string, number]> = [];
    const done = await run(store, { dataset: 'pets', head: FAST_HEAD }, {
      onEpoch: async (log, job) => {
        const stored = await readJob(store, job.jobId);
        seen.push([log.epoch, stored.progress.epoch, stored.status, stored.history.length]);
      },
    });
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeUndefined();
    expect(seen).toEqual(done.history.map((h) => [h.epoch, h.epoch, 'running', h.epoch]));
    expect(done.progress).toMatchObject({ epoch: done.history.length, epochs: 10, etaMs: expect.any(Number) });
    expect(done.progress.valAccuracy).toBe(1);
    expect(done.data).toEqual({ dim: 8, labels: ['cat', 'dog', 'fox'], rows: { train: 48, validation: 12 }, skipped: { pending: 2, failed: 1 } });
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!));
    expect(await readJob(store, done.jobId)).toEqual(done);

    const head = await getHead(store, done.headId!);
    expect(head).toMatchObject({
      dataset: 'pets',
      labels: ['cat', 'dog', 'fox'],
      inputDim: 8,
      jobId: done.jobId,
      base: { model: 'densenet121', namespace: 'densenet121@0123456789abcdef/avg_pool' },
      training: { spec: { hidden: [16], epochs: 10, batchSize: 16, learningRate: 0.01, dropout: 0.2 }, rows: { train: 48, validation: 12 } },
      metrics: { accuracy: 1, evaluatedOn: 'validation-split', rows: 12 },
    });
    expect(head.metrics.confusionMatrix).toEqual([[4, 0, 0], [0, 4, 0], [0, 0, 4]]);
    expect(head.metrics.history).toEqual(done.history);
  });

  it('evaluates on a separate validation dataset when one is named', async () => {
    const store = await petsStore();
    await writeDataset(store, 'pets-val', { labels: { cat: 3, dog: 3, fox: 3 }, seed: 9 });
    const done = await run(store, { dataset: 'pets', validationDataset: 'pets-val', head: FAST_HEAD });
    expect(done.status).toBe('succeeded');
    expect(done.data!.rows).toEqual({ train: 60, validation: 9 });
    const head = await getHead(store, done.headId!);
    expect(head).toMatchObject({ validationDataset: 'pets-val', metrics: { evaluatedOn: 'validation-dataset', rows: 9, accuracy: 1 } });
  });

  it('reports training-set metrics when there is no validation data', async () => {
    const store = await petsStore();
    const done = await run(store, { dataset: 'pets', head: { ...FAST_HEAD, validationSplit: 0 } });
    expect(done.data!.rows).toEqual({ train: 60, validation: 0 });
    expect(done.progress.valLoss).toBeNull();
    expect((await getHead(store, done.headId!)).metrics).toMatchObject({ evaluatedOn: 'training', rows: 60 });
  });

  it('runs a job only once: a second delivery returns the finished record untouched', async () => {
    const store = await petsStore();
    const done = await run(store, { dataset: 'pets', head: FAST_HEAD });
    const again = await runTrainingJob(store, done.jobId, { namespace: NS });
    expect(again).toEqual(done);
    expect(await listHeads(store)).toHaveLength(1);
  });

  it('rejects when the job does not exist (there is no record to fail)', async () => {
    await expect(runTrainingJob(new MemoryStore(), 'job-20250101-000000-00000000', { namespace: NS })).rejects.toMatchObject({ code: 'JobNotFound' });
  });
});

describe('runTrainingJob failures a person can act on', () => {
  async function expectFailure(store: ObjectStore, request: TrainRequest, code: string, message: string | RegExp, options: Partial<RunJobOptions> = {}) {
    const done = await run(store, request, options);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe(code);
    expect(done.error?.message).toMatch(message);
    expect(done.headId).toBeUndefined();
    expect(await readJob(store, done.jobId)).toEqual(done);
    expect(await keysUnder(store, 'models/')).toEqual([]);
    return done;
  }

  it('unknown dataset, listing the known ones', async () => {
    const store = await petsStore();
    await writeDataset(store, 'birds', { labels: { owl: 1 } });
    await expectFailure(store, { dataset: 'cars' }, 'UnknownDataset', "Dataset 'cars' has no images under images/cars/<label>/ (known datasets: 'birds' or 'pets').");
  });

  it('fewer than 2 labels', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'cats', { labels: { cat: 5 } });
    await expectFailure(store, { dataset: 'cats' }, 'InsufficientLabels', "needs at least 2 labels (class folders images/cats/<label>/) to train a classifier; found only 'cat'.");
  });

  it('a label without features, naming it with its pending and failed counts', async () => {
    const store = await petsStore({ pending: { owl: 3 }, failed: { owl: 2 } });
    await expectFailure(
      store,
      { dataset: 'pets' },
      'MissingFeatures',
      "labels without extracted features in densenet121@0123456789abcdef/avg_pool: 'owl' (5 images: 3 pending, 2 failed)",
    );
  });

  it.each([
    [{ model: 'resnet50' }, "asks for model 'resnet50', but this service extracts features with 'densenet121'"],
    [{ namespace: 'densenet121@ffffffffffffffff/avg_pool' }, "with 'densenet121@0123456789abcdef/avg_pool'"],
  ])('features from another base model: %j', async (field, message) => {
    await expectFailure(await petsStore(), { dataset: 'pets', ...field }, 'BaseModelMismatch', message);
  });

  it('out of memory, before loading, with the sizes involved', async () => {
    await expectFailure(
      await petsStore(),
      { dataset: 'pets', head: { hidden: [4096] } },
      'OutOfMemory',
      /^Training on 60 rows × 8 features \(1.9 KiB as float32\) and a head of 49155 parameters needs about 773.7 KiB, but only 0 B of 1.0 MiB are free/,
      { memoryLimitBytes: 1024 * 1024 },
    );
  });

  it('out of memory while loading features (an allocation failure)', async () => {
    const store = await petsStore();
    const get = store.get.bind(store);
    store.get = async (key) => {
      if (key.includes('/shards/')) throw new RangeError('Array buffer allocation failed');
      return get(key);
    };
    await expectFailure(store, { dataset: 'pets' }, 'OutOfMemory', /^Ran out of memory while loading 60 rows × 8 features .*Array buffer allocation failed.*trainMemoryMb/);
  });

  it('too few examples of a label for the validation split (the core error, by name)', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'tiny', { labels: { cat: 1, dog: 3 } });
    await expectFailure(store, { dataset: 'tiny' }, 'InsufficientExamples', "Label 'cat' has only 1 example");
  });

  it('a request that is no longer valid (written by hand)', async () => {
    const store = await petsStore();
    const job = await createJob(store, { dataset: 'pets' });
    await writeJob(store, { ...job, request: { dataset: 'pets', head: { epochs: 0 } } });
    const done = await runTrainingJob(store, job.jobId, { namespace: NS });
    expect(done.error).toEqual({ code: 'InvalidTrainRequest', message: 'head: HeadSpec.epochs must be an integer ≥ 1, got 0.' });
  });
});

describe('a job killed mid-training publishes nothing', () => {
  it('when an epoch callback throws (a crash)', async () => {
    const store = await petsStore();
    const done = await run(store, { dataset: 'pets', head: FAST_HEAD }, {
      onEpoch: (log) => {
        if (log.epoch === 2) throw new Error('worker crashed');
      },
    });
    expect(done.status).toBe('failed');
    expect(done.error!.code).toBe('InternalError');
    expect(done.error!.message).toContain('Error: worker crashed');
    expect(done.history).toHaveLength(2);
    expect(await listHeads(store)).toEqual([]);
    expect(await keysUnder(store, 'models/')).toEqual([]);
  });

  it('when its abort signal fires, with the reason the signal carries', async () => {
    const store = await petsStore();
    const controller = new AbortController();
    const done = await run(store, { dataset: 'pets', head: { ...FAST_HEAD, epochs: 50, patience: 50 } }, {
      signal: controller.signal,
      onEpoch: (log) => {
        if (log.epoch === 3) controller.abort(new HeadstartError('TrainingTimeout', 'Stopped 10 s before the time limit.'));
      },
    });
    expect(done).toMatchObject({ status: 'failed', error: { code: 'TrainingTimeout', message: 'Stopped 10 s before the time limit.' } });
    expect(done.history).toHaveLength(3);
    expect(await keysUnder(store, 'models/')).toEqual([]);
  });

  it('when it is aborted before it starts', async () => {
    const store = await petsStore();
    const done = await run(store, { dataset: 'pets' }, { signal: AbortSignal.abort() });
    expect(done).toMatchObject({ status: 'failed', error: { code: 'TrainingAborted' }, history: [] });
  });
});
