import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi } from '../../functions/api/local.js';
import { createClassifyRoutes, type ClassifyRoutes } from '../../functions/classify/routes.js';
import { initBackend, tf } from '../../src/engine/backend.js';
import { FeaturePipeline, namespaceId, type FeatureNamespace } from '../../src/features/pipeline.js';
import { ImageLoader } from '../../src/finetune/images.js';
import { FINETUNED_PREFIX, loadFinetuned, type FinetunedConfig } from '../../src/finetune/index.js';
import { HeadCache } from '../../src/registry/index.js';
import { readJob } from '../../src/jobs/records.js';
import { FileStore } from '../../src/store/file.js';
import { MemoryStore } from '../../src/store/index.js';
import { importWeights } from '../../src/weights/index.js';
import { apiEvent, lambdaContext, parseResult, type ApiEventOptions } from '../helpers/events.js';
import { FakeSigner } from '../unit/api/fixtures.js';
import { jsonEvent, parseAnswer, serve } from '../unit/classify-api/events.js';
import { LABELS, putPatternDataset, randomBaseFolder } from '../unit/finetune/fixtures.js';

/**
 * Fine-tuning as a user of the local stack meets it: POST /train {"mode": "finetune"} runs in the
 * in-process worker (the same code the GPU batch job runs), the job record shows it, the registry lists
 * it, and POST /classify?model=<id> / POST /features?model=<id> serve it through the classify routes.
 * The base is a small MobileNetV2 (64×64, random calibrated weights) imported into the weights cache as
 * the service's 'imagenet' weights, so the request carries no weights path, as an API request cannot.
 */
const SIZE = 64;
const SERVICE: FeatureNamespace = {
  model: 'mobilenet_v2',
  weightsDigest: 'test',
  layer: 'global_average_pooling2d',
  pooling: 'avg',
  preprocess: 'tf',
  inputSize: [224, 224],
  interpolation: 'nearest',
  dtype: 'float32',
};
const KEY = 'images/shapes/square/img-0.png';

let home: string;
let baseDir: string;
let store: MemoryStore;
let local: ReturnType<typeof createLocalApi>;
let classify: ClassifyRoutes;
let classifyApi: ReturnType<typeof serve>;
let jobId: string;
let modelId: string;

async function call<T = any>(method: string, path: string, options?: ApiEventOptions) {
  return parseResult<T>(await local.handler(apiEvent(method, path, options), lambdaContext()));
}

/** The published model's probabilities (or base features) for the image at `key`, run by TF.js: the reference. */
async function reference(key: string, output: 'classifier' | 'features'): Promise<{ values: Float32Array; config: FinetunedConfig }> {
  const { model, config } = await loadFinetuned(store, modelId);
  const loader = new ImageLoader(store, { inputSize: config.input.size, interpolation: config.input.interpolation, preprocess: config.input.preprocess });
  const x = tf.tensor4d(await loader.batch([key]), [1, SIZE, SIZE, 3]);
  const target = output === 'classifier' ? model : tf.model({ inputs: model.inputs, outputs: model.getLayer(config.finetunedBase.layer).output as tf.SymbolicTensor });
  const y = target.predict(x) as tf.Tensor;
  const values = Float32Array.from(y.dataSync() as Float32Array);
  tf.dispose([x, y]);
  model.dispose();
  return { values, config };
}

beforeAll(async () => {
  await initBackend();
  home = await mkdtemp(join(tmpdir(), 'headstart-finetune-api-'));
  baseDir = await randomBaseFolder(SIZE);
  await importWeights(baseDir, { model: 'mobilenet_v2', home });
  store = new MemoryStore();
  await putPatternDataset(store, 'shapes', 6);
  local = createLocalApi({ store, namespace: async () => SERVICE, uploads: new FakeSigner(), home });
  classify = createClassifyRoutes({
    store,
    defaultModel: 'mobilenet_v2',
    createPipeline: (model, cut) => FeaturePipeline.create({ model, cut, weights: null }),
    heads: new HeadCache(store),
    home,
  });
  classifyApi = serve(classify.routes);

  const started = await call('POST', '/train', {
    body: { mode: 'finetune', dataset: 'shapes', unfreeze: 'block_16', inputSize: SIZE, epochs: 2, batchSize: 5, learningRate: 1e-3, augment: { rotation: 5 } },
  });
  expect(started.status).toBe(202);
  jobId = started.body.jobId;
  await local.finetuneLauncher.idle();
}, 300_000);

afterAll(async () => {
  classify?.dispose();
  await local?.close();
  await rm(home, { recursive: true, force: true });
  await rm(baseDir, { recursive: true, force: true });
});

describe('POST /train {"mode": "finetune"} on the local stack', () => {
  it('runs the job in the local worker: GET /jobs/{id} shows it succeeded, epoch by epoch, with the model id', async () => {
    const job = await call('GET', `/jobs/${jobId}`);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ jobId, kind: 'finetune', status: 'succeeded', progress: { epoch: 2, epochs: 2 } });
    expect(job.body.history).toHaveLength(2);
    expect(job.body.error).toBeUndefined();
    modelId = job.body.modelId;
    expect(modelId).toMatch(/^shapes-ft-\d{8}-\d{6}-[0-9a-f]{6}$/);
  });

  it('publishes to the registry: GET /models lists it under finetuned, GET /models/{id} shows its config and metrics', async () => {
    const list = await call('GET', '/models');
    expect(list.body.models).toEqual([]);
    expect(list.body.finetuned).toEqual([expect.objectContaining({ modelId, dataset: 'shapes', labels: [...LABELS], model: 'mobilenet_v2', jobId })]);
    const shown = await call('GET', `/models/${modelId}`);
    expect(shown.body).toMatchObject({
      format: 'headstart-finetuned',
      modelId,
      input: { size: [SIZE, SIZE] },
      base: { model: 'mobilenet_v2', weights: 'imagenet' },
      unfreeze: { spec: 'block_16', firstLayer: 'block_16_expand' },
      training: { request: { augment: { flip: true, zoom: 0.1, rotation: 5 } } },
      metrics: { evaluatedOn: 'validation-split', rows: 3 },
    });
  });

  it('POST /classify?model=<id> answers with its own labels and the probabilities of the published model', async () => {
    const answer = parseAnswer(await classifyApi(jsonEvent({ key: KEY }, { model: modelId })));
    expect(answer.status).toBe(200);
    expect(answer.body.model).toBe(modelId);
    const predictions = answer.body.predictions as Array<{ label: string; score: number }>;
    expect(predictions.map((p) => p.label).sort()).toEqual([...LABELS]);
    const { values } = await reference(KEY, 'classifier');
    for (const { label, score } of predictions) expect(score).toBeCloseTo(values[LABELS.indexOf(label as (typeof LABELS)[number])]!, 4);
    // A batch, with one bad image failing alone.
    const batch = parseAnswer(await classifyApi(jsonEvent({ images: [{ key: KEY }, { image: Buffer.from('not an image').toString('base64') }] }, { model: modelId, top: '1' })));
    expect(batch.status).toBe(200);
    expect(batch.body.results[0].predictions).toEqual([predictions[0]]);
    expect(batch.body.results[1].error.code).toBe('NotAnImage');
  });

  it("POST /features?model=<id> gives the fine-tuned base's pooled features in its own namespace, never the frozen base's", async () => {
    const answer = parseAnswer(await classifyApi(jsonEvent({ key: KEY }, { model: modelId }, '/features')));
    expect(answer.status).toBe(200);
    const { values, config } = await reference(KEY, 'features');
    expect(answer.body.shape).toEqual([1280]);
    expect(answer.body.namespace).toBe(config.finetunedBase.namespace);
    expect(answer.body.namespace).not.toBe(namespaceId({ ...SERVICE, weightsDigest: config.base.weightsDigest! }));
    expect(answer.body.metadata).toMatchObject({ weights_digest: config.finetunedBase.weightsDigest, pooling: 'avg' });
    const served = answer.body.features as number[];
    expect(Math.max(...served.map((v, i) => Math.abs(v - values[i]!)))).toBeLessThan(1e-3);
  });

  it('DELETE /models/{id} unpublishes it: classification stops at once (404), the warm pipeline is dropped', async () => {
    expect(classify.service.loadedPipelines()).toContain(`finetuned:${modelId}|classifier`);
    expect(await call('DELETE', `/models/${modelId}`)).toMatchObject({ status: 200, body: { modelId, deleted: true } });
    const answer = parseAnswer(await classifyApi(jsonEvent({ key: KEY }, { model: modelId })));
    expect(answer).toMatchObject({ status: 404, body: { error: { code: 'ModelNotFound' } } });
    expect(classify.service.loadedPipelines().some((k) => k.startsWith('finetuned:'))).toBe(false);
    const left: string[] = [];
    for await (const info of store.listAll(FINETUNED_PREFIX)) left.push(info.key);
    expect(left).toEqual([]);
    expect(await call('GET', `/models/${modelId}`)).toMatchObject({ status: 404 });
  });
});

describe('the local worker process (what `npm start` runs): `headstart finetune --job <id>` as a child', () => {
  let root: string;
  let fileStore: FileStore;
  const worker = () => createLocalApi({ store: fileStore, namespace: async () => SERVICE, uploads: new FakeSigner(), home, jobWorker: { store: root, log: () => undefined } });
  const callOn = async (api: ReturnType<typeof createLocalApi>, method: string, path: string, options?: ApiEventOptions) =>
    parseResult(await api.handler(apiEvent(method, path, options), lambdaContext()));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'headstart-finetune-worker-'));
    fileStore = new FileStore(root);
    await putPatternDataset(fileStore, 'shapes', 6);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('a job stopped by the server shutting down keeps its checkpoint, and POST /jobs/{id}/resume finishes it', async () => {
    const first = worker();
    const started = await callOn(first, 'POST', '/train', {
      body: { mode: 'finetune', dataset: 'shapes', unfreeze: { lastN: 4 }, inputSize: SIZE, epochs: 3, patience: 5, batchSize: 5, learningRate: 1e-3 },
    });
    expect(started.status).toBe(202);
    const id = started.body.jobId as string;
    // A head job does not wait behind fine-tuning (as in the cloud: the train function and the GPU job).
    const head = await callOn(first, 'POST', '/train', { body: { dataset: 'shapes' } });
    await first.launcher.idle();
    // There are no cached features in this store: the head job fails at once, which is all this needs (it ran).
    expect(await readJob(fileStore, head.body.jobId)).toMatchObject({ kind: 'train', status: 'failed' });
    expect(['queued', 'running']).toContain((await readJob(fileStore, id)).status);
    // Shut down once the first epoch is recorded: the worker gets SIGTERM and records where it stopped.
    for (let i = 0; i < 1200 && !((await readJob(fileStore, id)).progress.epoch >= 1); i++) await new Promise((r) => setTimeout(r, 100));
    await first.close();
    const stopped = await readJob(fileStore, id);
    expect(stopped).toMatchObject({ status: 'failed', error: { code: 'TrainingAborted' } });
    expect(stopped.progress.epoch).toBeGreaterThanOrEqual(1);
    expect(stopped.progress.epoch).toBeLessThan(3);

    const second = worker();
    expect(await callOn(second, 'POST', `/jobs/${id}/resume`)).toMatchObject({ status: 202, body: { status: 'queued', resumedAfterEpoch: stopped.progress.epoch } });
    await second.finetuneLauncher.idle();
    const done = await callOn(second, 'GET', `/jobs/${id}`);
    expect(done.body).toMatchObject({ status: 'succeeded', resumedFromEpoch: stopped.progress.epoch, progress: { epoch: 3 } });
    expect(done.body.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3]);
    await second.close();
  }, 300_000);

  it('a worker that dies without a word leaves the job failed with WorkerExited, not running for ever', async () => {
    const api = createLocalApi({
      store: fileStore,
      namespace: async () => SERVICE,
      uploads: new FakeSigner(),
      home,
      // A store the worker cannot open: it exits non-zero before it writes anything.
      jobWorker: { store: join(root, 'missing'), log: () => undefined },
    });
    const started = await callOn(api, 'POST', '/train', { body: { mode: 'finetune', dataset: 'shapes', unfreeze: 'block_16', inputSize: SIZE } });
    await api.finetuneLauncher.idle();
    expect(await readJob(fileStore, started.body.jobId)).toMatchObject({ status: 'failed', error: { code: 'WorkerExited', message: expect.stringContaining('/resume') } });
    await api.close();
  }, 120_000);
});
