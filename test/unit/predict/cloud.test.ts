import { beforeAll, describe, expect, it } from 'vitest';
import { parseExtractEvent } from '../../../functions/extract/events.js';
import { createPredictHandler, PREDICT_WRAP_UP_MS } from '../../../functions/predict/handler.js';
import { createTrainHandler, type PredictContext } from '../../../functions/train/handler.js';
import { eventBridgeEvents, PREDICT_EVENT, sqsEnqueue, type PutEventsInput, type SqsBatchInput } from '../../../functions/train/predict.js';
import { initBackend } from '../../../src/engine/backend.js';
import { createJob, createPredictJob, readJob } from '../../../src/jobs/index.js';
import { runTrainingJob } from '../../../src/heads/job.js';
import type { ImageClassifier, PredictSummary } from '../../../src/predict/index.js';
import { predictionResultsKey } from '../../../src/layout.js';
import { MemoryStore } from '../../../src/store/index.js';
import { lambdaContext } from '../../helpers/events.js';
import { FAST_HEAD, NS, quietLogs, writeDataset } from '../jobs/fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `images/shop/_unlabelled/${i} a+b.jpg`, size: 10 + i, etag: `e${i}` }));

describe('the cloud adapters of batch prediction', () => {
  it('sends the extract queue one message per image, ten per batch, in the shape the extract function reads', async () => {
    const sent: SqsBatchInput[] = [];
    const enqueue = sqsEnqueue({ send: async (command) => (sent.push(command as SqsBatchInput), {}) }, (input) => input, 'https://sqs/queue', 'bucket-1');
    await enqueue(records(23));
    expect(sent.map((c) => c.Entries.length)).toEqual([10, 10, 3]);
    expect(new Set(sent.map((c) => c.QueueUrl))).toEqual(new Set(['https://sqs/queue']));
    // The extract handler's own parser reads the body back: key as stored (spaces, '+'), size, ETag.
    const event = { Records: sent[2]!.Entries.map((e, i) => ({ messageId: String(i), eventSource: 'aws:sqs', body: e.MessageBody })) };
    expect(parseExtractEvent(event).messages.flatMap((m) => m.records)).toEqual(records(23).slice(20));
  });

  it('sends refused entries once more, then fails with the reason', async () => {
    let calls = 0;
    const flaky = sqsEnqueue(
      { send: async (c) => (++calls === 1 ? { Failed: [{ Id: (c as SqsBatchInput).Entries[1]!.Id, Message: 'throttled' }] } : {}) },
      (input) => input,
      'q',
      'b',
    );
    await flaky(records(3));
    expect(calls).toBe(2);
    const refusing = sqsEnqueue({ send: async (c) => ({ Failed: (c as SqsBatchInput).Entries.map((e) => ({ Id: e.Id, Message: 'KMS denied' })) }) }, (input) => input, 'q', 'b');
    await expect(refusing(records(2))).rejects.toMatchObject({ code: 'ExtractQueueFailed', message: expect.stringContaining('KMS denied') });
  });

  it('puts one "Prediction Job Completed" event from source headstart, the summary as its detail', async () => {
    const sent: PutEventsInput[] = [];
    const events = eventBridgeEvents({ send: async (c) => (sent.push(c as PutEventsInput), { FailedEntryCount: 0 }) }, (input) => input);
    const summary = { jobId: 'job-1', status: 'succeeded' } as PredictSummary;
    await events.publish(summary);
    expect(sent).toEqual([{ Entries: [{ Source: PREDICT_EVENT.source, DetailType: 'Prediction Job Completed', Detail: JSON.stringify(summary) }] }]);
    const refused = eventBridgeEvents({ send: async () => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDenied', ErrorMessage: 'no' }] }) }, (input) => input);
    await expect(refused.publish(summary)).rejects.toMatchObject({ code: 'EventNotPublished' });
  });

  it('the train function runs a prediction job by its kind, waiting on the extract path within its time', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', { labels: { cat: 10, dog: 10 }, pending: { cat: 1 } });
    const train = await runTrainingJob(store, (await createJob(store, { dataset: 'pets', head: FAST_HEAD })).jobId, { namespace: NS });
    const contexts: PredictContext[] = [];
    const published: PredictSummary[] = [];
    const handler = createTrainHandler(async () => ({
      store,
      namespace: async () => NS,
      predict: (context) => {
        contexts.push(context);
        return { events: { publish: async (s) => void published.push(s) } };
      },
    }));
    const job = await createPredictJob(store, { dataset: 'pets', head: train.headId! });
    const result = await handler({ jobId: job.jobId }, lambdaContext(10 * 60 * 1000));
    expect(result).toMatchObject({ jobId: job.jobId, status: 'succeeded' });
    // 10 minutes, less the deadline margin and the time kept for the head pass.
    expect(contexts).toEqual([{ namespace: NS, remainingMs: expect.any(Number) }]);
    expect(contexts[0]!.remainingMs).toBeLessThanOrEqual(10 * 60 * 1000 - 15_000 - 120_000);
    expect(published.map((s) => [s.jobId, s.status])).toEqual([[job.jobId, 'succeeded']]);
    expect(await readJob(store, job.jobId)).toMatchObject({ progress: { images: { total: 21, cached: 20, failed: 1 } } });
  });
});

describe('the predict function (batch prediction with a model)', () => {
  /** A classifier that names every image after its file and records the batches it was given. */
  const namingClassifier = (asked: string[][] = []): ImageClassifier => ({
    async classify(keys, model) {
      asked.push([model, ...keys]);
      return keys.map((key) => (key.endsWith('bad.jpg') ? { code: 'CorruptImage', message: 'truncated' } : [{ label: key.split('/').pop()!, score: 0.9 }]));
    },
  });
  const shop = async () => {
    const store = new MemoryStore();
    for (const name of ['a', 'bad', 'c']) await store.put(`images/shop/_unlabelled/${name}.jpg`, name);
    return store;
  };

  it('runs a queued model job with its classifier, writes the results, announces them, and keeps the wrap-up time', async () => {
    const store = await shop();
    const asked: string[][] = [];
    const published: PredictSummary[] = [];
    const handler = createPredictHandler(async () => ({ store, namespace: async () => NS, classifier: namingClassifier(asked), events: { publish: async (s) => void published.push(s) } }));
    const job = await createPredictJob(store, { dataset: 'shop', model: 'mobilenet_v2', top: 1 });
    const result = await handler({ jobId: job.jobId }, lambdaContext(PREDICT_WRAP_UP_MS + 60_000));
    expect(result).toEqual({ jobId: job.jobId, status: 'succeeded', error: undefined });
    expect(asked).toEqual([['mobilenet_v2', 'images/shop/_unlabelled/a.jpg', 'images/shop/_unlabelled/bad.jpg', 'images/shop/_unlabelled/c.jpg']]);
    const rows = (await store.get(predictionResultsKey(job.jobId, 'jsonl'))).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.label ?? r.error.code)).toEqual(['a.jpg', 'CorruptImage', 'c.jpg']);
    expect(published).toEqual([expect.objectContaining({ jobId: job.jobId, status: 'succeeded', images: expect.objectContaining({ total: 3, predicted: 2, failed: 1 }) })]);
  });

  it('classifies nothing past its limit less the wrap-up time: the images it did not reach fail with NotReached, and the job still ends', async () => {
    const store = await shop();
    const asked: string[][] = [];
    const handler = createPredictHandler(async () => ({ store, namespace: async () => NS, classifier: namingClassifier(asked) }));
    const job = await createPredictJob(store, { dataset: 'shop', model: 'mobilenet_v2' });
    // Less time left than the wrap-up needs: no batch starts.
    const result = await handler({ jobId: job.jobId }, lambdaContext(PREDICT_WRAP_UP_MS - 1000));
    expect(result.status).toBe('succeeded');
    expect(asked).toEqual([]);
    expect(await readJob(store, job.jobId)).toMatchObject({ progress: { images: { total: 3, predicted: 0, failed: 3 } }, failures: [{ code: 'NotReached' }, { code: 'NotReached' }, { code: 'NotReached' }] });
  });

  it("fails a head job or a training job sent to it, saying which function runs it; a deployment without a namespace fails the job, not the invocation", async () => {
    const store = await shop();
    await writeDataset(store, 'pets', { labels: { cat: 4, dog: 4 } });
    const handler = createPredictHandler(async () => ({ store, namespace: async () => NS, classifier: namingClassifier() }));
    const head = await createPredictJob(store, { dataset: 'shop', head: 'some-head' });
    expect(await handler({ jobId: head.jobId }, lambdaContext())).toMatchObject({ status: 'failed', error: { code: 'InvalidArgument', message: expect.stringContaining('with a head, which the train function runs') } });
    const train = await createJob(store, { dataset: 'pets', head: FAST_HEAD });
    expect(await handler({ jobId: train.jobId }, lambdaContext())).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('is a train job') } });
    const broken = createPredictHandler(async () => ({ store, namespace: async () => Promise.reject(new Error('no weights index')), classifier: namingClassifier() }));
    const model = await createPredictJob(store, { dataset: 'shop', model: 'mobilenet_v2' });
    expect(await broken({ jobId: model.jobId }, lambdaContext())).toMatchObject({ status: 'failed' });
    await expect(handler({ nope: 1 }, lambdaContext())).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
