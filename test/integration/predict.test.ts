import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../../local/dev.js';
import { predictCommand } from '../../src/cli/commands/predict.js';
import type { LinkRecord } from '../../src/features/ingest.js';
import type { FeatureNamespace } from '../../src/features/namespace.js';
import type { PredictJobRecord } from '../../src/jobs/types.js';
import { errorKey, featureKey, linkKey, predictionResultsKey } from '../../src/layout.js';
import type { PredictSummary } from '../../src/predict/index.js';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { FASHION_MNIST } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';

const weights = await realWeights();

/** Three classes DenseNet121 features tell apart easily; 8 training images each, 4 test images each to predict. */
const LABELS = ['bag', 'sandal', 'trouser'];
const TRAIN_PER_CLASS = 8;
const PREDICT_PER_CLASS = 4;
/** Of the images to predict: these lose their cached features before the job (so it extracts them). */
const UNCACHED = ['images/fmp/bag/', 'images/fmp/trouser/'];

interface Received {
  body: PredictSummary;
}

/**
 * Batch prediction on the real embedded stack (`npm start`): DenseNet121 with its real weights, a head trained on
 * cached features of fashion-mnist-small, POST /predict over a dataset where some features are cached, some are
 * not (extracted by the job through the upload path) and one image is corrupt; a webhook to a local server;
 * the results files read back and held to POST /classify; then `headstart predict --wait` on the same images.
 */
describeWhen(weights, 'batch prediction on the local stack (POST /predict)', () => {
  let home: string;
  let data: string;
  let stack: DevStack;
  let store: S3Store;
  let ns: FeatureNamespace;
  let headId: string;
  let hook: Server;
  let hookUrl: string;
  const received: Received[] = [];
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.api.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const untilDone = async (jobId: string, done: (job: PredictJobRecord) => boolean): Promise<PredictJobRecord> => {
    for (let i = 0; i < 600; i++) {
      const job = (await api('GET', `/jobs/${jobId}`)).json as unknown as PredictJobRecord;
      if (done(job)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${jobId} did not finish`);
  };
  const upload = async (split: string, dataset: string, perClass: number): Promise<string[]> => {
    const keys: string[] = [];
    for (const label of LABELS) {
      for (const file of (await readdir(join(FASHION_MNIST, split, label))).sort().slice(0, perClass)) {
        const key = `images/${dataset}/${label}/${file}`;
        await store.put(key, await readFile(join(FASHION_MNIST, split, label, file)), { contentType: 'image/png' });
        keys.push(key);
      }
    }
    return keys;
  };
  const extracted = async () => {
    await new Promise((r) => setTimeout(r, 300));
    await stack.queue.idle();
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-predict-home-'));
    data = mkdtempSync(join(tmpdir(), 'hs-predict-data-'));
    await weights.installInto(home);
    hook = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => (text += chunk));
      request.on('end', () => {
        received.push({ body: JSON.parse(text) as PredictSummary });
        // The first delivery fails: the job retries it.
        response.statusCode = received.length === 1 ? 503 : 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/predictions-done`;
    stack = await startDevStack({ port: 0, s3Port: 0, dataDir: data, home, model: 'densenet121', log: () => undefined });
    store = new S3Store(createS3Client({ endpoint: stack.s3.endpoint }), stack.s3.bucket);
    await upload('train', 'fm', TRAIN_PER_CLASS);
    await extracted();
    const train = await api('POST', '/train', { dataset: 'fm', head: { hidden: [32], epochs: 40, batchSize: 8, learningRate: 0.005, validationSplit: 0.25 } });
    expect(train.status).toBe(202);
    const trained = (await untilDone(train.json.jobId as string, (job) => job.status !== 'queued' && job.status !== 'running')) as unknown as { status: string; headId: string };
    expect(trained.status).toBe('succeeded');
    headId = trained.headId;
    const head = (await api('GET', `/models/${headId}`)).json as { base: FeatureNamespace };
    ns = head.base;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    rmSync(home, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });

  it('classifies every image: cached ones with the head alone, uncached ones extracted and cached first, a corrupt one fails alone; the webhook is retried and recorded', async () => {
    const keys = await upload('test', 'fmp', PREDICT_PER_CLASS);
    const corrupt = 'images/fmp/_unlabelled/corrupt.png';
    const png = await readFile(join(FASHION_MNIST, 'test', 'coat', (await readdir(join(FASHION_MNIST, 'test', 'coat')))[0]!));
    await store.put(corrupt, png.subarray(0, Math.floor(png.length / 2)), { contentType: 'image/png' });
    await extracted();
    // Forget what the upload path did for some images (links, features, the failure record): the job must redo it.
    const forget = [...keys.filter((k) => UNCACHED.some((p) => k.startsWith(p))).slice(0, 1), keys.find((k) => k.startsWith(UNCACHED[1]!))!, corrupt];
    for (const key of forget) {
      const link = JSON.parse((await store.get(linkKey(ns, key))).toString()) as LinkRecord;
      await store.delete(linkKey(ns, key));
      await store.delete(link.status === 'ok' ? featureKey(ns, link.sha256) : errorKey(link.sha256));
    }

    const started = await api('POST', '/predict', { dataset: 'fmp', head: headId, top: 3, webhook: hookUrl });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ kind: 'predict', status: 'queued', location: `/jobs/${started.json.jobId}` });
    const job = await untilDone(started.json.jobId as string, (j) => j.status === 'failed' || (j.status === 'succeeded' && j.webhook !== undefined));

    expect(job.status).toBe('succeeded');
    expect(job.progress.images).toEqual({ phase: 'writing', total: 13, cached: 10, extracted: 2, predicted: 12, failed: 1 });
    expect(job.failures).toEqual([{ key: corrupt, code: expect.stringMatching(/^(CorruptImage|NotAnImage|ImageFailed)$/), message: expect.any(String) }]);
    expect(job.webhook).toMatchObject({ url: hookUrl, delivered: true, attempts: 2, lastStatus: 200 });
    expect(received).toHaveLength(2);
    expect(received[1]!.body).toMatchObject({ jobId: job.jobId, status: 'succeeded', images: job.progress.images, results: job.results });

    // The extracted images are cached exactly as an upload is: their links and features are back.
    for (const key of forget.slice(0, 2)) {
      const link = JSON.parse((await store.get(linkKey(ns, key))).toString()) as LinkRecord;
      expect(link).toMatchObject({ key, status: 'ok' });
      expect(await store.exists(featureKey(ns, link.sha256))).toBe(true);
    }

    const rows = (await store.get(predictionResultsKey(job.jobId, 'jsonl'))).toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.key)).toEqual([...keys, corrupt].sort());
    expect(rows.find((r) => r.key === corrupt)).toMatchObject({ error: { code: job.failures![0]!.code } });
    const good = rows.filter((r) => !('error' in r)) as Array<{ key: string; label: string; probability: number; top: Array<{ label: string; probability: number }>; source: string }>;
    expect(good.filter((r) => r.source === 'extracted').map((r) => r.key).sort()).toEqual(forget.slice(0, 2).sort());
    // A head on DenseNet121 features tells bags, sandals and trousers apart.
    expect(good.filter((r) => r.label === r.key.split('/')[2]).length).toBeGreaterThanOrEqual(9);
    for (const row of good) expect(row.top).toHaveLength(3);

    // The same answers as POST /classify with the head, for a cached and an extracted image.
    for (const row of [good[0]!, good.find((r) => r.source === 'extracted')!]) {
      const classified = await api('POST', `/classify?head=${headId}&top=3`, { key: row.key });
      expect(classified.status).toBe(200);
      const predictions = classified.json.predictions as Array<{ label: string; score: number }>;
      expect(predictions.map((p) => p.label)).toEqual(row.top.map((t) => t.label));
      predictions.forEach((p, i) => expect(p.score).toBeCloseTo(row.top[i]!.probability, 5));
    }

    const csv = (await store.get(predictionResultsKey(job.jobId, 'csv'))).toString().trim().split('\r\n');
    expect(csv).toHaveLength(14);
    expect(csv.find((l) => l.startsWith(`${good[0]!.key},`))).toBe(
      `${good[0]!.key},${good[0]!.label},${good[0]!.probability},${good[0]!.top.map((t) => `${t.label}:${t.probability}`).join(';')},${good[0]!.source},,`,
    );
  }, 120_000);

  it('headstart predict --wait runs it again from the CLI: everything is cached now', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await predictCommand.run(['--dataset', 'fmp', '--head', headId, '--wait', '--api', stack.api.url], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^job job-\S+ succeeded: 12 of 13 images predicted, 1 failed/);
    expect(out[1]).toBe('  12 from cached features, 0 extracted (and cached) first');
    const bad = await predictCommand.run(['--dataset', 'nope', '--head', headId, '--api', stack.api.url], { out: () => {}, err: () => {} }).catch((e: Error) => e);
    expect((bad as Error).message).toContain('UnknownDataset');
  }, 60_000);

  it("with a model instead of a head, the server's classify service runs every image through the whole network", async () => {
    const started = await api('POST', '/predict', { dataset: 'fmp', model: 'densenet121', top: 2 });
    expect(started.status).toBe(202);
    const job = await untilDone(started.json.jobId as string, (j) => j.status === 'failed' || j.status === 'succeeded');

    expect(job).toMatchObject({ status: 'succeeded', progress: { images: { total: 13, cached: 0, extracted: 0, predicted: 12, failed: 1 } } });
    const rows = (await store.get(predictionResultsKey(job.jobId, 'jsonl'))).toString().trim().split('\n').map((l) => JSON.parse(l) as { key: string; source?: string; top?: unknown[] });
    const good = rows.filter((row) => row.source);
    expect(good).toHaveLength(12);
    for (const row of good) expect(row).toMatchObject({ source: 'model', top: [expect.anything(), expect.anything()] });
  }, 120_000);
});
