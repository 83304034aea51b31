import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { HeadstartError } from '../../../src/errors.js';
import { decodeSafetensors } from '../../../src/features/format/safetensors.js';
import { Ingestor, type IngestPipeline, type LinkRecord } from '../../../src/features/ingest.js';
import type { ExtractResult } from '../../../src/features/pipeline.js';
import { runTrainingJob } from '../../../src/heads/job.js';
import { createJob, createPredictJob, readJob, recoverJobs, writeJob, type PredictJobRecord, type PredictRequest } from '../../../src/jobs/index.js';
import { featureKey, linkKey, predictionResultsKey } from '../../../src/layout.js';
import { CLOCK_MARGIN_MS } from '../../../src/predict/cached.js';
import { inProcessExtraction, queuedExtraction, runPredictJob, type PredictSummary, type RunPredictOptions } from '../../../src/predict/index.js';
import { MemoryStore, type ObjectStore } from '../../../src/store/index.js';
import { sha256Hex } from '../../../src/util/hash.js';
import { FAST_HEAD, NS, quietLogs, writeDataset } from '../jobs/fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

/** The class centre writeDataset gives a label (±1.5 per dimension from the bits of its hash). */
function centre(label: string, dim = 8): Float32Array {
  const bits = createHash('sha256').update(label).digest();
  return Float32Array.from({ length: dim }, (_, d) => ((bits[d % 32]! >> Math.floor(d / 32) % 8) & 1 ? 1.5 : -1.5));
}

/**
 * A feature pipeline without a model, in the service's namespace: bytes `<dataset>/<label>/…` extract to
 * that label's centre (so the head must name the folder), bytes starting with 'bad' fail as a corrupt file would.
 */
function fakePipeline(): IngestPipeline & { extracted: string[] } {
  const extracted: string[] = [];
  return {
    namespace: NS,
    batchSize: 4,
    extracted,
    metadata: (source) => ({ model: NS.model, source }),
    async extract(images): Promise<ExtractResult[]> {
      return images.map((bytes) => {
        const text = bytes.toString();
        if (text.startsWith('bad')) return { ok: false, error: new HeadstartError('CorruptImage', 'the decoder refused it') };
        extracted.push(text);
        return { ok: true, features: centre(text.split('/')[1]!), shape: [8] };
      });
    },
  };
}

/** pets: cat/dog/fox, 12 cached images each, 2 uploaded but not extracted per label; a head trained on the cached ones. */
async function petsWithHead(): Promise<{ store: MemoryStore; headId: string }> {
  const store = new MemoryStore();
  await writeDataset(store, 'pets', { labels: { cat: 12, dog: 12, fox: 12 }, pending: { cat: 2, dog: 2, fox: 2 } });
  const train = await createJob(store, { dataset: 'pets', head: FAST_HEAD });
  const trained = await runTrainingJob(store, train.jobId, { namespace: NS });
  expect(trained.status).toBe('succeeded');
  return { store, headId: trained.headId! };
}

async function predict(store: ObjectStore, request: PredictRequest, options: Partial<RunPredictOptions> = {}): Promise<PredictJobRecord> {
  const job = await createPredictJob(store, request);
  return runPredictJob(store, job.jobId, { namespace: NS, progressEveryMs: 0, ...options });
}

async function lines(store: ObjectStore, jobId: string): Promise<Array<Record<string, unknown>>> {
  const text = (await store.get(predictionResultsKey(jobId, 'jsonl'))).toString();
  return text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('runPredictJob with a head', () => {
  it('predicts cached images with the head alone, extracts (and caches) the rest first, and a corrupt image fails alone', async () => {
    const { store, headId } = await petsWithHead();
    await store.put('images/pets/cat/broken.png', 'bad bytes');
    const pipeline = fakePipeline();
    const events: PredictSummary[] = [];
    const done = await predict(store, { dataset: 'pets', head: headId, top: 2 }, {
      extraction: inProcessExtraction(new Ingestor(store, pipeline)),
      events: { publish: async (summary) => void events.push(summary) },
    });

    expect(done.status).toBe('succeeded');
    expect(done.progress.images).toEqual({ phase: 'writing', total: 43, cached: 36, extracted: 6, predicted: 42, failed: 1 });
    // Only the uncached images went through the pipeline: the cached ones skipped the base.
    expect(pipeline.extracted.sort()).toEqual(['cat', 'dog', 'fox'].flatMap((l) => [12, 13].map((n) => `pets/${l}/${n}/1`)).sort());
    expect(done.failures).toEqual([{ key: 'images/pets/cat/broken.png', code: 'CorruptImage', message: expect.stringContaining('decoder refused') }]);

    const rows = await lines(store, done.jobId);
    expect(rows).toHaveLength(43);
    expect(rows.map((r) => r.key)).toEqual([...rows.map((r) => r.key as string)].sort());
    const predicted = rows.filter((r) => !('error' in r));
    const folder = (row: Record<string, unknown>) => (row.key as string).split('/')[2];
    for (const row of predicted) {
      expect(row).toMatchObject({ top: [{ label: row.label }, {}] });
      expect(row.probability).toBe((row.top as Array<{ probability: number }>)[0]!.probability);
    }
    // The noisy cached rows are mostly right; the extracted ones are their class centres: always right.
    expect(predicted.filter((r) => r.label === folder(r)).length / predicted.length).toBeGreaterThan(0.85);
    const extractedRows = rows.filter((r) => r.source === 'extracted');
    expect(extractedRows.map((r) => r.label)).toEqual(extractedRows.map(folder));
    expect(extractedRows).toHaveLength(6);
    expect(rows.find((r) => r.key === 'images/pets/cat/broken.png')).toEqual({ key: 'images/pets/cat/broken.png', error: { code: 'CorruptImage', message: expect.any(String) } });

    // Extracted exactly as an upload is: a link and the content-addressed features, then a cache hit next time.
    const key = 'images/pets/dog/13.png';
    const link = JSON.parse((await store.get(linkKey(NS, key))).toString()) as LinkRecord;
    expect(link).toMatchObject({ key, status: 'ok', sha256: sha256Hex(Buffer.from('pets/dog/13/1')) });
    expect(decodeSafetensors(await store.get(featureKey(NS, link.sha256))).tensors.features!.data).toEqual(centre('dog'));
    const again = await predict(store, { dataset: 'pets', head: headId }, { extraction: inProcessExtraction(new Ingestor(store, fakePipeline())) });
    expect(again.progress.images).toMatchObject({ cached: 42, extracted: 0, failed: 1 });
    expect((await lines(store, again.jobId)).filter((r) => 'label' in r).map((r) => r.label)).toEqual(rows.filter((r) => 'label' in r).map((r) => r.label));

    const csv = (await store.get(predictionResultsKey(done.jobId, 'csv'))).toString().split('\r\n');
    expect(csv[0]).toBe('key,label,probability,top,source,error_code,error_message');
    expect(csv).toHaveLength(43 + 2);
    expect(csv.find((l) => l.startsWith('images/pets/fox/12.png,'))).toMatch(/^images\/pets\/fox\/12\.png,fox,[0-9.e-]+,fox:[0-9.e-]+;\w+:[0-9.e-]+,extracted,,$/);

    expect(events).toEqual([expect.objectContaining({ jobId: done.jobId, status: 'succeeded', results: done.results, images: done.progress.images })]);
    expect(await readJob(store, done.jobId)).toEqual(done);
  });

  it('reads the rows of a dataset a head trained on from its shards (no per-image read), the others from their files', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', { labels: { cat: 12, dog: 12, fox: 12 } });
    // Links older than the shard build by more than the clock margin (S3 keeps Last-Modified to the second).
    await new Promise((r) => setTimeout(r, CLOCK_MARGIN_MS + 1100));
    const trained = await runTrainingJob(store, (await createJob(store, { dataset: 'pets', head: FAST_HEAD })).jobId, { namespace: NS });
    await writeDataset(store, 'pets', { labels: { owl: 2 }, seed: 3 });
    const reads: string[] = [];
    const counting = new Proxy(store, { get: (target, prop) => (prop === 'get' ? (key: string) => (reads.push(key), target.get(key)) : Reflect.get(target, prop)) });
    const done = await predict(counting, { dataset: 'pets', head: trained.headId! });
    expect(done.progress.images).toMatchObject({ total: 38, cached: 38, predicted: 38, failed: 0 });
    // The two new images: their link and their features; the 36 others: one shard and its manifest.
    expect(reads.filter((k) => k.includes('/links/')).sort()).toEqual(['images/pets/owl/0.png', 'images/pets/owl/1.png'].map((k) => linkKey(NS, k)));
    expect(reads.filter((k) => k.endsWith('.safetensors') && !k.includes('/shards/'))).toHaveLength(2);
    const rows = await lines(store, done.jobId);
    expect(rows.filter((r) => r.label === (r.key as string).split('/')[2] && !(r.key as string).includes('/owl/')).length).toBeGreaterThan(30);
  });

  it('takes a prefix of one label, and without an extraction runner the uncached images fail with NotExtracted', async () => {
    const { store, headId } = await petsWithHead();
    const done = await predict(store, { prefix: 'images/pets/fox/', head: headId });
    expect(done.progress.images).toMatchObject({ total: 14, cached: 12, predicted: 12, failed: 2 });
    expect(done.failures!.map((f) => [f.key, f.code])).toEqual([
      ['images/pets/fox/12.png', 'NotExtracted'],
      ['images/pets/fox/13.png', 'NotExtracted'],
    ]);
  });

  it('fails the job (not an image) for a head that does not exist, a head of other features, or a stop request', async () => {
    const { store, headId } = await petsWithHead();
    const missing = await predict(store, { dataset: 'pets', head: 'no-such-head' });
    expect(missing).toMatchObject({ status: 'failed', error: { code: 'HeadNotFound' } });
    const other = await predict(store, { dataset: 'pets', head: headId }, { namespace: { ...NS, layer: 'conv5_block16_concat' } });
    expect(other).toMatchObject({ status: 'failed', error: { code: 'HeadBaseMismatch' } });
    const controller = new AbortController();
    controller.abort(new HeadstartError('JobStopped', 'stopped on request'));
    const stopped = await predict(store, { dataset: 'pets', head: headId }, { signal: controller.signal });
    expect(stopped).toMatchObject({ status: 'failed', error: { code: 'JobStopped' } });
    expect(stopped.results).toBeUndefined();
  });

  it('waits for the extract path in the cloud shape: enqueued images are done when their links appear', async () => {
    const { store, headId } = await petsWithHead();
    const ingestor = new Ingestor(store, fakePipeline());
    const enqueued: string[] = [];
    // The "queue": the extract function's work, done a little later, as SQS would deliver it.
    const extraction = queuedExtraction({
      store,
      namespace: NS,
      pollMs: 5,
      enqueue: async (records) => {
        enqueued.push(...records.map((r) => r.key));
        setTimeout(() => void ingestor.ingest(records.slice(0, 1)), 1);
      },
      maxWaitMs: 200,
    });
    const done = await predict(store, { prefix: 'images/pets/cat/', head: headId }, { extraction });
    expect(enqueued).toEqual(['images/pets/cat/12.png', 'images/pets/cat/13.png']);
    expect(done.progress.images).toMatchObject({ total: 14, cached: 12, extracted: 1, predicted: 13, failed: 1 });
    expect(done.failures).toEqual([{ key: 'images/pets/cat/13.png', code: 'ExtractionPending', message: expect.stringContaining('POST /predict again') }]);
  });
});

describe('runPredictJob with a model', () => {
  it('hands every image to the classifier; its per-image errors fail those images alone', async () => {
    const store = new MemoryStore();
    for (const name of ['a', 'b', 'c']) await store.put(`images/shop/_unlabelled/${name}.jpg`, name);
    const asked: string[][] = [];
    const done = await predict(store, { dataset: 'shop', model: 'densenet121', top: 1 }, {
      modelBatch: 2,
      classifier: {
        async classify(keys, model, top) {
          asked.push([...keys, model, String(top)]);
          return keys.map((key) => (key.endsWith('b.jpg') ? { code: 'CorruptImage', message: 'truncated' } : [{ label: 'tabby', score: 0.75 }]));
        },
      },
    });
    expect(asked).toEqual([
      ['images/shop/_unlabelled/a.jpg', 'images/shop/_unlabelled/b.jpg', 'densenet121', '1'],
      ['images/shop/_unlabelled/c.jpg', 'densenet121', '1'],
    ]);
    expect(await lines(store, done.jobId)).toEqual([
      { key: 'images/shop/_unlabelled/a.jpg', label: 'tabby', probability: 0.75, top: [{ label: 'tabby', probability: 0.75 }], source: 'model' },
      { key: 'images/shop/_unlabelled/b.jpg', error: { code: 'CorruptImage', message: 'truncated' } },
      { key: 'images/shop/_unlabelled/c.jpg', label: 'tabby', probability: 0.75, top: [{ label: 'tabby', probability: 0.75 }], source: 'model' },
    ]);
    const without = await predict(store, { dataset: 'shop', model: 'densenet121' });
    expect(without).toMatchObject({ status: 'failed', error: { code: 'PredictUnavailable' } });
  });

  it('stops classifying at its deadline: the images not reached fail with NotReached, the rest are kept and the job ends', async () => {
    const store = new MemoryStore();
    for (const name of ['a', 'b', 'c', 'd', 'e']) await store.put(`images/shop/_unlabelled/${name}.jpg`, name);
    let now = 1_000_000;
    const clock = Date.now;
    Date.now = () => now;
    try {
      const done = await predict(store, { dataset: 'shop', model: 'densenet121', top: 1 }, {
        modelBatch: 2,
        deadline: 1_000_050,
        classifier: {
          async classify(keys) {
            // Each batch takes 40 ms: the second starts before the deadline, the third after it.
            now += 40;
            return keys.map(() => [{ label: 'tabby', score: 0.75 }]);
          },
        },
      });
      expect(done).toMatchObject({ status: 'succeeded', progress: { images: { total: 5, predicted: 4, failed: 1 } } });
      expect(done.failures).toEqual([{ key: 'images/shop/_unlabelled/e.jpg', code: 'NotReached', message: expect.stringContaining('from images/shop/_unlabelled/e.jpg on') }]);
      expect((await lines(store, done.jobId)).map((row) => ('error' in row ? (row.error as { code: string }).code : row.label))).toEqual(['tabby', 'tabby', 'tabby', 'tabby', 'NotReached']);
    } finally {
      Date.now = clock;
    }
  });
});

describe('prediction jobs and the webhook', () => {
  it('records the delivery: attempts and last status, delivered or not', async () => {
    const { store, headId } = await petsWithHead();
    const calls: Array<{ url: string; body: PredictSummary }> = [];
    const statuses = [503, 200];
    const fetchStub = (async (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(init.body as string) as PredictSummary });
      return new Response(null, { status: statuses.shift() ?? 500 });
    }) as unknown as typeof fetch;
    const done = await predict(store, { prefix: 'images/pets/cat/', head: headId, webhook: 'https://hooks.example.com/done' }, { webhook: { fetch: fetchStub, backoffMs: 1 } });
    expect(done.webhook).toMatchObject({ url: 'https://hooks.example.com/done', delivered: true, attempts: 2, lastStatus: 200 });
    expect(calls.map((c) => c.body)).toEqual([summaryLike(done), summaryLike(done)]);
    expect((await readJob(store, done.jobId)) as PredictJobRecord).toMatchObject({ webhook: { delivered: true, attempts: 2 } });

    const refused = await predict(store, { prefix: 'images/pets/cat/', head: 'no-such-head', webhook: 'https://hooks.example.com/done' }, {
      webhook: { fetch: (async () => new Response(null, { status: 410 })) as unknown as typeof fetch, backoffMs: 1 },
    });
    // A failed job is announced too; a 410 is the receiver's final answer, not retried.
    expect(refused).toMatchObject({ status: 'failed', webhook: { delivered: false, attempts: 1, lastStatus: 410, lastError: 'HTTP 410' } });
  });
});

function summaryLike(job: PredictJobRecord) {
  return expect.objectContaining({ jobId: job.jobId, status: job.status, images: job.progress.images, results: job.results });
}

describe('recovery of prediction jobs', () => {
  it('a running prediction job left by a dead server is queued and launched again; nothing stays running', async () => {
    const { store, headId } = await petsWithHead();
    const job = await createPredictJob(store, { dataset: 'pets', head: headId });
    await writeJob(store, { ...job, status: 'running', startedAt: new Date().toISOString() });
    const launched: string[] = [];
    const recovered = await recoverJobs(store, (kind) => (kind === 'predict' ? { launch: async (id) => void launched.push(id) } : undefined));
    expect(recovered.resumed).toEqual([job.jobId]);
    expect(launched).toEqual([job.jobId]);
    expect((await readJob(store, job.jobId)).status).toBe('queued');
    const rerun = await runPredictJob(store, job.jobId, { namespace: NS });
    expect(rerun.status).toBe('succeeded');

    const orphan = await createPredictJob(store, { dataset: 'pets', head: headId });
    const none = await recoverJobs(store, () => undefined);
    expect(none.failed).toEqual([orphan.jobId]);
    expect(await readJob(store, orphan.jobId)).toMatchObject({ status: 'failed', error: { code: 'PredictUnavailable' } });
  });
});
