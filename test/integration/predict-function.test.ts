import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClassifyRoutes, type ClassifyRoutes } from '../../functions/classify/routes.js';
import { pipelineFromConfig } from '../../functions/shared/pipeline.js';
import { publishFinetuned } from '../../src/finetune/index.js';
import { createPredictJob, readJob, type PredictJobRecord } from '../../src/jobs/index.js';
import { predictionResultsKey } from '../../src/layout.js';
import type { PredictSummary } from '../../src/predict/index.js';
import { HeadCache } from '../../src/registry/index.js';
import { lambdaContext } from '../helpers/events.js';
import { photo, PHOTO_TOP1 } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';
import { finetunedDraft } from '../unit/export/fixtures.js';

const weights = await realWeights();

/** The environment the stack gives the predict function (infra/predict.ts), on the embedded S3 server. */
const ENV_KEYS = ['HEADSTART_BUCKET', 'HEADSTART_S3_ENDPOINT', 'HEADSTART_HOME', 'HEADSTART_MODEL', 'HEADSTART_ENGINE', 'PREDICT_EVENTS', 'POWERTOOLS_METRICS_DISABLED'] as const;

interface Row {
  key: string;
  label?: string;
  probability?: number;
  top?: Array<{ label: string; probability: number }>;
  source?: string;
  error?: { code: string; message: string };
}

/**
 * The predict function's handler (functions/predict/index.ts, as its image runs it) in this process, with the
 * template's environment, against the embedded S3 server: DenseNet121 with its real ImageNet weights over the
 * shared photos and a corrupt JPEG under one prefix; results.jsonl read back and held to POST /classify.
 */
describeWhen(weights, 'the predict function: batch prediction with a model on the embedded S3 server', () => {
  let s3: TestS3;
  let home: string;
  let hook: Server;
  let hookUrl: string;
  let classify: ClassifyRoutes;
  const received: PredictSummary[] = [];
  const saved = new Map<string, string | undefined>();
  const keys = PHOTO_TOP1.map(([file]) => `images/photos/_unlabelled/${file}`);
  const corrupt = 'images/photos/_unlabelled/zz-corrupt.jpg';

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'hs-predict-fn-home-'));
    await weights.installInto(home);
    s3 = await startTestS3();
    for (const [i, [file]] of PHOTO_TOP1.entries()) await s3.store.put(keys[i]!, await readFile(photo(file)), { contentType: 'image/jpeg' });
    const eagle = await readFile(photo('eagle.jpg'));
    await s3.store.put(corrupt, eagle.subarray(0, 2000), { contentType: 'image/jpeg' });
    hook = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => (text += chunk));
      request.on('end', () => {
        received.push(JSON.parse(text) as PredictSummary);
        response.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done`;
    const env = { HEADSTART_BUCKET: s3.s3.bucket, HEADSTART_S3_ENDPOINT: s3.s3.endpoint, HEADSTART_HOME: home, HEADSTART_MODEL: 'densenet121', HEADSTART_ENGINE: 'onnx', PREDICT_EVENTS: 'off', POWERTOOLS_METRICS_DISABLED: 'true' };
    for (const key of ENV_KEYS) {
      saved.set(key, process.env[key]);
      process.env[key] = env[key];
    }
    const config = { bucket: s3.s3.bucket, endpoint: s3.s3.endpoint, model: 'densenet121', home };
    classify = createClassifyRoutes({
      store: s3.store,
      defaultModel: 'densenet121',
      createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, s3.store),
      heads: new HeadCache(s3.store),
    });
  }, 120_000);

  afterAll(async () => {
    classify?.dispose();
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    await s3?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('classifies every image under the prefix with the whole network, fails the corrupt one alone, writes results.jsonl and results.csv, calls the webhook', async () => {
    const { handler } = await import('../../functions/predict/index.js');
    const job = await createPredictJob(s3.store, { prefix: 'images/photos/', model: 'densenet121', top: 3, webhook: hookUrl });

    const result = await handler({ jobId: job.jobId }, lambdaContext(900_000, 'headstart-predict'));

    expect(result).toMatchObject({ jobId: job.jobId, status: 'succeeded' });
    const done = (await readJob(s3.store, job.jobId)) as PredictJobRecord;
    expect(done.progress.images).toMatchObject({ total: 5, cached: 0, extracted: 0, predicted: 4, failed: 1 });
    expect(done.failures).toEqual([{ key: corrupt, code: expect.stringMatching(/^(CorruptImage|NotAnImage)$/), message: expect.any(String) }]);
    expect(done.webhook).toMatchObject({ url: hookUrl, delivered: true, attempts: 1, lastStatus: 200 });
    expect(received).toEqual([expect.objectContaining({ jobId: job.jobId, status: 'succeeded', results: done.results })]);

    const rows = (await s3.store.get(predictionResultsKey(job.jobId, 'jsonl'))).toString().trim().split('\n').map((line) => JSON.parse(line) as Row);
    expect(rows.map((row) => row.key)).toEqual([...keys, corrupt].sort());
    expect(rows.find((row) => row.key === corrupt)).toEqual({ key: corrupt, error: { code: done.failures![0]!.code, message: expect.any(String) } });
    const good = rows.filter((row) => !row.error);
    for (const row of good) {
      expect(row).toMatchObject({ source: 'model', label: row.top![0]!.label, probability: row.top![0]!.probability });
      expect(row.top).toHaveLength(3);
    }
    // Real ImageNet weights: the eagle is a bald eagle (nearest resize, as POST /classify).
    expect(good.find((row) => row.key.endsWith('/eagle.jpg'))?.label).toBe('bald eagle');

    // The same answers as POST /classify with { key } on a classify service of its own.
    const outcome = await classify.service.classify(good.map((row) => ({ name: row.key, key: row.key })), { model: 'densenet121', top: 3 });
    outcome.results.forEach((answer, i) => {
      if (!('predictions' in answer)) throw new Error(`POST /classify failed on ${good[i]!.key}: ${JSON.stringify(answer)}`);
      expect(answer.predictions.map((p) => p.label)).toEqual(good[i]!.top!.map((t) => t.label));
      answer.predictions.forEach((p, j) => expect(p.score).toBeCloseTo(good[i]!.top![j]!.probability, 5));
    });

    const csv = (await s3.store.get(predictionResultsKey(job.jobId, 'csv'))).toString().trim().split('\r\n');
    expect(csv).toHaveLength(6);
    expect(csv.find((line) => line.startsWith(`${corrupt},`))).toMatch(new RegExp(`^${corrupt},,,,,${done.failures![0]!.code},`));
  }, 300_000);

  it("runs a published fine-tuned model from its model.onnx, as the classify function serves it", async () => {
    const { handler } = await import('../../functions/predict/index.js');
    const draft = finetunedDraft('photos-tuned');
    try {
      await publishFinetuned(s3.store, draft);
    } finally {
      draft.model.dispose();
    }
    const job = await createPredictJob(s3.store, { prefix: 'images/photos/', model: 'photos-tuned', top: 2 });

    expect(await handler({ jobId: job.jobId }, lambdaContext(900_000, 'headstart-predict'))).toMatchObject({ status: 'succeeded' });
    const rows = (await s3.store.get(predictionResultsKey(job.jobId, 'jsonl'))).toString().trim().split('\n').map((line) => JSON.parse(line) as Row);
    const good = rows.filter((row) => !row.error);
    expect(good.map((row) => row.key)).toEqual([...keys].sort());
    for (const row of good) {
      expect(row.top!.map((t) => t.label).sort()).toEqual(['cat', 'dog']);
      expect(row.top![0]!.probability + row.top![1]!.probability).toBeCloseTo(1, 5);
    }
    const outcome = await classify.service.classify(good.map((row) => ({ name: row.key, key: row.key })), { finetuned: 'photos-tuned', top: 2 });
    outcome.results.forEach((answer, i) => {
      if (!('predictions' in answer)) throw new Error(`POST /classify failed on ${good[i]!.key}: ${JSON.stringify(answer)}`);
      expect(answer.predictions.map((p) => p.label)).toEqual(good[i]!.top!.map((t) => t.label));
      answer.predictions.forEach((p, j) => expect(p.score).toBeCloseTo(good[i]!.top![j]!.probability, 5));
    });
  }, 120_000);
});
