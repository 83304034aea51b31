import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/engine/backend.js';
import { OnnxModel } from '../../src/engine/onnx/index.js';
import {
  FINETUNED_FILES,
  checkpointPrefix,
  finetunedKey,
  loadFinetuned,
  readFinetunedPointer,
  runFinetuneJob,
  type FinetuneRequest,
  type FinetuneResult,
} from '../../src/finetune/index.js';
import { listDatasetImages, splitImages } from '../../src/finetune/data.js';
import { ImageLoader } from '../../src/finetune/images.js';
import { TrainingAbortedError } from '../../src/heads/errors.js';
import { lossAndAccuracy } from '../../src/heads/metrics.js';
import { buildHeadModel } from '../../src/heads/model.js';
import { DEFAULT_HEAD_SPEC } from '../../src/heads/spec.js';
import { newJobId, readJob } from '../../src/jobs/records.js';
import { publishHead } from '../../src/registry/publish.js';
import { MemoryStore } from '../../src/store/index.js';
import { loadModel } from '../../src/weights/index.js';
import { LABELS, putPatternDataset, randomBaseFolder, sameBits, weightsByLayer } from '../unit/finetune/fixtures.js';
import { expectNoLeak } from '../helpers/tf.js';

/**
 * Whole jobs on a small MobileNetV2 (64×64, random weights and randomised BatchNorm statistics, saved
 * as a TF.js folder so every job starts from the same base) and 3 × 6 generated PNGs.
 */
const SIZE = 64;
const BAD_KEY = 'images/shapes/square/zz-not-an-image.png';
let store: MemoryStore;
let baseDir: string;
let original: Map<string, Float32Array[]>;
let baseLayerNames: string[];

const request = (over: Partial<FinetuneRequest> = {}): FinetuneRequest => ({
  dataset: 'shapes',
  model: 'mobilenet_v2',
  unfreeze: 'block_16',
  weights: baseDir,
  inputSize: SIZE,
  epochs: 2,
  batchSize: 5,
  learningRate: 1e-3,
  ...over,
});

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys;
}

/** The validation images of the job's split, as the job draws it. */
async function validationKeys(): Promise<{ keys: string[]; labelIndex: Int32Array }> {
  const { labels, all } = await listDatasetImages(store, 'shapes');
  const usable = all.keys.map((key, i) => ({ key, i })).filter(({ key }) => key !== BAD_KEY).map(({ i }) => i);
  const { validation } = splitImages({ keys: usable.map((i) => all.keys[i]!), labelIndex: Int32Array.from(usable, (i) => all.labelIndex[i]!) }, labels, 0.2, 42);
  return validation!;
}

beforeAll(async () => {
  await initBackend();
  store = new MemoryStore();
  await putPatternDataset(store, 'shapes', 6);
  await store.put(BAD_KEY, 'this is not a PNG');
  baseDir = await randomBaseFolder(SIZE);
  const { model } = await loadModel('mobilenet_v2', { weights: baseDir, includeTop: false, pooling: 'avg', inputShape: [SIZE, SIZE, 3] });
  original = weightsByLayer(model);
  baseLayerNames = model.layers.map((l) => l.name);
  model.dispose();
});

afterAll(() => rm(baseDir, { recursive: true, force: true }));

describe('runFinetuneJob: unfreeze block_16 of MobileNetV2', () => {
  let jobId: string;
  let result: FinetuneResult;

  beforeAll(async () => {
    jobId = newJobId();
    result = await expectNoLeak(() => runFinetuneJob(store, jobId, request()));
  });

  it('trains the unfrozen layers only, and never moves a BatchNorm moving statistic', async () => {
    const { model } = await loadFinetuned(store, result.modelId);
    const first = baseLayerNames.indexOf('block_16_expand');
    let changed = 0;
    for (const [i, name] of baseLayerNames.entries()) {
      const before = original.get(name);
      if (!before) continue;
      const after = model.getLayer(name).getWeights().map((w) => w.dataSync() as Float32Array);
      if (i < first) {
        expect(after.every((w, j) => sameBits(w, before[j]!)), `frozen layer ${name}`).toBe(true);
      } else if (model.getLayer(name).getClassName() === 'BatchNormalization') {
        expect(sameBits(after[2]!, before[2]!) && sameBits(after[3]!, before[3]!), `moving statistics of ${name}`).toBe(true);
        if (!sameBits(after[0]!, before[0]!)) changed++;
      } else if (!sameBits(after[0]!, before[0]!)) {
        changed++;
      }
    }
    // block_16: expand, depthwise, project convs, Conv_1, and their four BatchNorms' gamma.
    expect(changed).toBe(8);
    expect(model.layers.slice(-3).map((l) => l.name)).toEqual(['head_input_dropout', 'head_dense_1', 'head_predictions']);
    model.dispose();
  });

  it('records the run, publishes behind a pointer and removes the checkpoint', async () => {
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(result.labels).toEqual([...LABELS]);
    expect(result.config.unfreeze).toMatchObject({ spec: 'block_16', firstLayer: 'block_16_expand', trainableLayers: 12 });
    expect(result.config.training.skipped).toEqual([{ key: BAD_KEY, code: 'NotAnImage' }]);
    expect(result.config.training.rows).toEqual({ train: 15, validation: 3 });
    const job = await readJob(store, jobId);
    expect(job).toMatchObject({ status: 'succeeded', kind: 'finetune', modelId: result.modelId, progress: { epoch: 2, epochs: 2 } });
    expect(job.history).toHaveLength(2);
    const pointer = await readFinetunedPointer(store, result.modelId);
    expect(Object.keys(pointer.files).sort()).toEqual(Object.values(FINETUNED_FILES).sort());
    expect(await keysUnder(checkpointPrefix(jobId))).toEqual([]);
    // A second delivery of the same job returns the published result without training again.
    const again = await runFinetuneJob(store, jobId, request());
    expect(again.modelId).toBe(result.modelId);
  });

  it('refuses to publish over a model another job published under the same id, before training', async () => {
    const other = newJobId();
    const before = tf.memory().numTensors;
    await expect(runFinetuneJob(store, other, request({ modelId: result.modelId }))).rejects.toMatchObject({ code: 'ModelIdTaken' });
    expect(tf.memory().numTensors).toBe(before);
    expect(await readJob(store, other)).toMatchObject({ status: 'failed', error: { code: 'ModelIdTaken' }, history: [] });
    expect((await readFinetunedPointer(store, result.modelId)).summary.jobId).toBe(jobId);
  });

  it('reports validation metrics that the published model reproduces on the un-augmented validation images', async () => {
    const { keys, labelIndex } = await validationKeys();
    const { model, config } = await loadFinetuned(store, result.modelId);
    const loader = new ImageLoader(store, { inputSize: config.input.size, interpolation: config.input.interpolation, preprocess: config.input.preprocess });
    const x = tf.tensor4d(await loader.batch(keys), [keys.length, SIZE, SIZE, 3]);
    const probs = model.predict(x) as tf.Tensor;
    const { loss, accuracy } = lossAndAccuracy(probs.dataSync() as Float32Array, labelIndex, 3);
    expect(loss).toBeCloseTo(result.metrics.loss, 5);
    expect(accuracy).toBe(result.metrics.accuracy);
    // The ONNX export serves the same model.
    const onnx = await OnnxModel.create(new Uint8Array(await store.get(finetunedKey(result.modelId, FINETUNED_FILES.onnx))));
    const served = await onnx.run(x.dataSync() as Float32Array, x.shape);
    const reference = probs.dataSync();
    expect(Math.max(...served.data.map((v, i) => Math.abs(v - reference[i]!)))).toBeLessThan(1e-4);
    onnx.dispose();
    tf.dispose([x, probs]);
    model.dispose();
  });

  it('gives the fine-tuned base its own weights digest: the one loadModel computes for its folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'headstart-finetuned-'));
    for (const file of [FINETUNED_FILES.model, FINETUNED_FILES.weights]) await writeFile(join(dir, file), await store.get(finetunedKey(result.modelId, file)));
    const { model, weightsDigest } = await loadModel('mobilenet_v2', { weights: dir, includeTop: false, pooling: 'avg', inputShape: [SIZE, SIZE, 3] });
    model.dispose();
    await rm(dir, { recursive: true, force: true });
    const { finetunedBase, base } = result.config;
    expect(finetunedBase.weightsDigest).toBe(weightsDigest);
    expect(finetunedBase.weightsDigest).not.toBe(base.weightsDigest);
    expect(finetunedBase.namespace).toBe(`mobilenet_v2@${weightsDigest}/global_average_pooling2d`);
  });
});

describe('runFinetuneJob: stop and resume', () => {
  it('resumes a job stopped after epoch 1 from its checkpoint and finishes as an uninterrupted run does', async () => {
    const jobId = newJobId();
    const settings = request({ epochs: 3, patience: 5, unfreeze: { lastN: 4 } });
    const controller = new AbortController();
    const stopped = runFinetuneJob(store, jobId, settings, { signal: controller.signal, onEpoch: (log) => (log.epoch === 1 ? controller.abort() : undefined) });
    await expect(stopped).rejects.toBeInstanceOf(TrainingAbortedError);
    const failed = await readJob(store, jobId);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'TrainingAborted' }, progress: { epoch: 1 } });
    expect((await keysUnder(checkpointPrefix(jobId))).some((k) => k.endsWith('state.json'))).toBe(true);

    const resumed = await expectNoLeak(() => runFinetuneJob(store, jobId, settings));
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(resumed.history[0]).toEqual(failed.history[0]);
    expect(resumed.config.training.resumedFromEpoch).toBe(1);
    expect(await readJob(store, jobId)).toMatchObject({ status: 'succeeded', resumedFromEpoch: 1, progress: { epoch: 3 } });

    // Same seeds per epoch and the optimizer's moments restored: the same numbers as one run.
    const straight = await runFinetuneJob(store, newJobId(), settings);
    for (const [i, log] of straight.history.entries()) {
      expect(resumed.history[i]!.loss).toBeCloseTo(log.loss, 5);
      expect(resumed.history[i]!.valLoss!).toBeCloseTo(log.valLoss!, 5);
    }
  });
});

describe('runFinetuneJob: augmentation', () => {
  it('augments training images only: the validation loss is the un-augmented one', async () => {
    const result = await runFinetuneJob(store, newJobId(), request({ epochs: 1, augment: { rotation: 20, zoom: 0.2 } }));
    const plain = await runFinetuneJob(store, newJobId(), request({ epochs: 1 }));
    // Augmented batches change what is learned (training loss), never what validation sees.
    expect(result.history[0]!.loss).not.toBeCloseTo(plain.history[0]!.loss, 4);
    const { keys, labelIndex } = await validationKeys();
    const { model, config } = await loadFinetuned(store, result.modelId);
    const loader = new ImageLoader(store, { inputSize: config.input.size, interpolation: config.input.interpolation, preprocess: config.input.preprocess });
    const x = tf.tensor4d(await loader.batch(keys), [keys.length, SIZE, SIZE, 3]);
    const p = model.predict(x) as tf.Tensor;
    expect(lossAndAccuracy(p.dataSync() as Float32Array, labelIndex, 3).loss).toBeCloseTo(result.history[0]!.valLoss!, 5);
    tf.dispose([x, p]);
    model.dispose();
  });
});

describe('runFinetuneJob: starting from a published head', () => {
  async function publishTestHead(headId: string, labels: string[]): Promise<Float32Array[]> {
    const head = buildHeadModel(1280, labels.length, { ...DEFAULT_HEAD_SPEC, hidden: [16], seed: 3 });
    const weights = head.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
    const base = { model: 'mobilenet_v2', weightsDigest: 'random', layer: 'global_average_pooling2d', pooling: 'avg' as const, preprocess: 'tf' as const, inputSize: [SIZE, SIZE] as [number, number], interpolation: 'nearest' as const, dtype: 'float32' as const };
    await publishHead(store, {
      model: head,
      info: {
        headId, dataset: 'shapes', validationDataset: null, labels, inputDim: 1280,
        base: { ...base, namespace: 'mobilenet_v2@random/global_average_pooling2d' },
        training: { spec: { ...DEFAULT_HEAD_SPEC, hidden: [16] }, epochs: 1, bestEpoch: 1, rows: { train: 1, validation: 1 }, backend: 'wasm', durationMs: 1 },
        library: 'test', createdAt: new Date().toISOString(), jobId: null,
      },
      metrics: { accuracy: 0, loss: 0, perClass: {}, confusionMatrix: [], labels, evaluatedOn: 'training', rows: 1, bestEpoch: 1, history: [] },
    });
    head.dispose();
    return weights;
  }

  it('continues the head: its layers and trained weights are the starting point', async () => {
    const published = await publishTestHead('shapes-head', [...LABELS]);
    // A learning rate so low that one epoch cannot move the weights visibly.
    const result = await runFinetuneJob(store, newJobId(), request({ fromHead: 'shapes-head', epochs: 1, learningRate: 1e-12, unfreeze: { lastN: 0 } }));
    expect(result.config.head).toEqual({ fromHead: 'shapes-head', layers: ['head_dense_1', 'head_dropout_1', 'head_predictions'] });
    expect(result.config.unfreeze).toMatchObject({ firstLayer: null, trainableLayers: 0 });
    const { model } = await loadFinetuned(store, result.modelId);
    const tuned = [...model.getLayer('head_dense_1').getWeights(), ...model.getLayer('head_predictions').getWeights()];
    tuned.forEach((w, i) => {
      const data = w.dataSync();
      expect(Math.max(...Array.from(data, (v, j) => Math.abs(v - published[i]![j]!)))).toBeLessThan(1e-6);
    });
    model.dispose();
  });

  it('refuses a head trained on other labels, recording why', async () => {
    await publishTestHead('other-head', ['a', 'b', 'c']);
    const jobId = newJobId();
    const before = tf.memory().numTensors;
    await expect(runFinetuneJob(store, jobId, request({ fromHead: 'other-head' }))).rejects.toThrow(
      /classifies 'a', 'b' or 'c'; the dataset's labels are 'horizontal', 'square' or 'vertical'/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect((await readJob(store, jobId)).error?.code).toBe('HeadMismatch');
  });
});

describe('runFinetuneJob: bad requests', () => {
  it('names valid block prefixes for an unknown unfreeze spec, records the failure and leaks nothing', async () => {
    const jobId = newJobId();
    const before = tf.memory().numTensors;
    await expect(runFinetuneJob(store, jobId, request({ unfreeze: 'conv5' }))).rejects.toThrow(/Unknown layer or block 'conv5' in mobilenetv2_1\.00_\d+: .*'block_16'/);
    expect(tf.memory().numTensors).toBe(before);
    expect((await readJob(store, jobId)).error?.code).toBe('UnfreezeSpec');
    expect(await keysUnder('models/finetuned/')).not.toContain(expect.stringContaining(jobId));
  });

  it('refuses an unknown dataset with the datasets there are', async () => {
    await expect(runFinetuneJob(store, newJobId(), request({ dataset: 'nothing' }))).rejects.toThrow(/Dataset 'nothing' has no images .*known datasets: 'shapes'/);
  });
});
