import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import {
  CorruptFinetunedModelError,
  FINETUNED_FILES,
  FinetunedModelNotFoundError,
  finetunedKey,
  getFinetuned,
  loadFinetuned,
  publishFinetuned,
  readFinetunedPointer,
  resolveFinetuneRequest,
  type FinetunedDraft,
} from '../../../src/finetune/index.js';
import { MemoryStore, type ObjectBody, type PutOptions } from '../../../src/store/index.js';

/** A store whose puts of one file fail (the disk filled up, the network dropped), and optionally its deletes. */
class FailingStore extends MemoryStore {
  constructor(
    private readonly failOn: string,
    private readonly deletesFail = false,
  ) {
    super();
  }

  override async put(key: string, body: ObjectBody, options?: PutOptions): Promise<void> {
    if (key.endsWith(`/${this.failOn}`)) throw new Error(`simulated failure writing ${key}`);
    return super.put(key, body, options);
  }

  override async delete(key: string): Promise<void> {
    if (this.deletesFail) throw new Error('simulated failure deleting');
    return super.delete(key);
  }
}

function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 3] });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'head_predictions' }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function draft(model: tf.LayersModel, modelId: string): FinetunedDraft {
  const request = resolveFinetuneRequest({ dataset: 'd', model: 'densenet121', unfreeze: 'conv5' });
  return {
    model,
    config: {
      modelId, dataset: 'd', labels: ['a', 'b'],
      input: { size: [4, 4], preprocess: 'torch', interpolation: 'nearest' },
      base: { model: 'densenet121', weights: 'imagenet', weightsDigest: '0123456789abcdef' },
      finetunedBase: { weightsDigest: 'fedcba9876543210', layer: 'avg_pool', pooling: 'avg', namespace: 'densenet121@fedcba9876543210/avg_pool' },
      unfreeze: { spec: 'conv5', firstLayer: 'conv5_block1_0_bn', trainableLayers: 1, trainableParams: 8, frozenParams: 0 },
      head: { fromHead: null, layers: ['head_predictions'] },
      training: { request, epochs: 1, bestEpoch: 1, rows: { train: 2, validation: 2 }, skipped: [], backend: 'wasm', durationMs: 1, resumedFromEpoch: 0 },
      library: 'test', createdAt: '2025-01-01T00:00:00.000Z', jobId: 'job-20250101-000000-00000000',
    },
    metrics: { accuracy: 0.5, loss: 0.7, perClass: {}, confusionMatrix: [[1, 0], [1, 0]], labels: ['a', 'b'], evaluatedOn: 'validation-split', rows: 2, bestEpoch: 1, history: [] },
  };
}

async function keysUnder(store: MemoryStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys;
}

beforeAll(async () => {
  await initBackend();
});

describe('publishFinetuned', () => {
  it('writes every file, then the pointer with their digests; loads back the same model', async () => {
    const store = new MemoryStore();
    const model = tinyModel();
    const pointer = await publishFinetuned(store, draft(model, 'm1'));
    expect(Object.keys(pointer.files)).toEqual(Object.values(FINETUNED_FILES));
    expect(pointer.summary).toMatchObject({ modelId: 'm1', model: 'densenet121', namespace: 'densenet121@fedcba9876543210/avg_pool', accuracy: 0.5 });
    expect(JSON.parse((await store.get(finetunedKey('m1', FINETUNED_FILES.model))).toString()).weightsManifest[0].paths).toEqual(['weights.bin']);
    const loaded = await loadFinetuned(store, 'm1');
    expect(loaded.labels).toEqual(['a', 'b']);
    expect(loaded.config.format).toBe('headstart-finetuned');
    const x = tf.randomUniform([2, 4, 4, 3]);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.model.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    loaded.model.dispose();
    expect((await getFinetuned(store, 'm1')).metrics.accuracy).toBe(0.5);
    model.dispose();
  });

  it('leaves nothing visible when a write before the pointer fails, and cleans up what it wrote', async () => {
    const store = new FailingStore(FINETUNED_FILES.onnx);
    const model = tinyModel();
    await expect(publishFinetuned(store, draft(model, 'm2'))).rejects.toThrow('simulated failure writing models/finetuned/m2/model.onnx');
    expect(await keysUnder(store, 'models/finetuned/')).toEqual([]);
    await expect(readFinetunedPointer(store, 'm2')).rejects.toBeInstanceOf(FinetunedModelNotFoundError);
    model.dispose();
  });

  it('stays invisible even when the clean-up fails too (a killed process): no pointer, no model', async () => {
    const store = new FailingStore(FINETUNED_FILES.onnx, true);
    const model = tinyModel();
    await expect(publishFinetuned(store, draft(model, 'm3'))).rejects.toThrow(/simulated failure writing/);
    expect((await keysUnder(store, 'models/finetuned/m3/')).length).toBe(5);
    await expect(loadFinetuned(store, 'm3')).rejects.toThrow("No published fine-tuned model 'm3'.");
    model.dispose();
  });
});

describe('loadFinetuned', () => {
  it('refuses files that are missing or not the published bytes', async () => {
    const store = new MemoryStore();
    const model = tinyModel();
    await publishFinetuned(store, draft(model, 'm4'));
    model.dispose();
    await store.put(finetunedKey('m4', FINETUNED_FILES.weights), Buffer.alloc(40));
    await expect(loadFinetuned(store, 'm4')).rejects.toThrow(CorruptFinetunedModelError);
    await expect(loadFinetuned(store, 'm4')).rejects.toThrow("Fine-tuned model 'm4' is damaged: weights.bin does not match the digest it was published with.");
    await store.delete(finetunedKey('m4', FINETUNED_FILES.config));
    await expect(getFinetuned(store, 'm4')).rejects.toThrow(/config.json is missing/);
  });

  it('checks the id before reading anything', async () => {
    await expect(loadFinetuned(new MemoryStore(), '../heads/x')).rejects.toThrow(/Invalid fine-tuned model id/);
  });
});
