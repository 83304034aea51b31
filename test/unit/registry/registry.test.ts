import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { predictHead } from '../../../src/heads/predict.js';
import {
  CorruptHeadError,
  deleteHead,
  getHead,
  HEAD_FILES,
  HeadNotFoundError,
  listHeads,
  loadHead,
  pointerKey,
  publishHead,
} from '../../../src/registry/index.js';
import { MemoryStore, type ObjectStore } from '../../../src/store/index.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { draftHead, LABELS, recordingStore } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

async function publish(store: ObjectStore, headId: string, options: Parameters<typeof draftHead>[1] = {}) {
  const draft = draftHead(headId, options);
  try {
    return await publishHead(store, draft);
  } finally {
    draft.model.dispose();
  }
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys;
}

describe('publishHead', () => {
  it('writes model.json, weights.bin, head.json and metrics.json, then the pointer last, leaking no tensor', async () => {
    const store = recordingStore(new MemoryStore());
    const draft = draftHead('pets-1');
    const summary = await expectNoLeak(() => publishHead(store, draft));
    draft.model.dispose();
    expect(store.operations).toEqual([
      'put models/heads/pets-1/model.json',
      'put models/heads/pets-1/weights.bin',
      'put models/heads/pets-1/head.json',
      'put models/heads/pets-1/metrics.json',
      'put models/heads/pets-1/_published.json',
    ]);
    expect(summary).toEqual({
      headId: 'pets-1',
      dataset: 'pets',
      labels: LABELS,
      model: 'densenet121',
      namespace: 'densenet121@0123456789abcdef/avg_pool',
      accuracy: 2 / 3,
      createdAt: '2025-01-01T00:00:00.000Z',
      jobId: 'job-20250101-000000-00000000',
    });
  });

  it('stores the head in TF.js layers format: the manifest names weights.bin, whose size matches the weights', async () => {
    const store = new MemoryStore();
    await publish(store, 'pets-1');
    const modelJson = JSON.parse((await store.get('models/heads/pets-1/model.json')).toString()) as tf.io.ModelJSON;
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    // 6→4 dense (24 + 4) and 4→3 predictions (12 + 3), float32.
    expect((await store.get('models/heads/pets-1/weights.bin')).length).toBe((24 + 4 + 12 + 3) * 4);
  });

  it('leaves no head visible and no files behind when a write fails', async () => {
    const store = new MemoryStore();
    const put = store.put.bind(store);
    store.put = async (key, body, options) => {
      if (key.endsWith(HEAD_FILES.metrics)) throw new Error('S3 said no');
      return put(key, body, options);
    };
    await expect(publish(store, 'pets-1')).rejects.toThrow('S3 said no');
    expect(await keysUnder(store, 'models/')).toEqual([]);
    expect(await listHeads(store)).toEqual([]);
  });

  it.each([1, 2, 3, 4])('a process killed after %i of the 4 files leaves a folder GET /models does not show', async (files) => {
    const inner = new MemoryStore();
    await publish(inner, 'pets-old', { createdAt: '2024-01-01T00:00:00.000Z' });
    const store = recordingStore(inner, { killAfterPuts: files });
    await expect(publish(store, 'pets-new')).rejects.toThrow('process killed');
    expect(store.killed).toBe(true);
    // No cleanup ran (the process is gone): the files stay, invisible.
    expect(await keysUnder(inner, 'models/heads/pets-new/')).toHaveLength(files);
    expect((await listHeads(inner)).map((h) => h.headId)).toEqual(['pets-old']);
    await expect(getHead(inner, 'pets-new')).rejects.toBeInstanceOf(HeadNotFoundError);
    await expect(loadHead(inner, 'pets-new')).rejects.toBeInstanceOf(HeadNotFoundError);
  });
});

describe('listHeads, getHead, deleteHead', () => {
  it('lists published heads newest first with their summaries', async () => {
    const store = new MemoryStore();
    await publish(store, 'a', { createdAt: '2025-01-01T00:00:00.000Z', accuracy: 0.5 });
    await publish(store, 'b', { createdAt: '2025-03-01T00:00:00.000Z', accuracy: 0.9 });
    await store.put('models/heads/c/model.json', '{}');
    const heads = await listHeads(store);
    expect(heads.map((h) => [h.headId, h.accuracy])).toEqual([
      ['b', 0.9],
      ['a', 0.5],
    ]);
  });

  it('gets head.json with metrics and the publication time', async () => {
    const store = new MemoryStore();
    await publish(store, 'pets-1');
    const head = await getHead(store, 'pets-1');
    expect(head).toMatchObject({
      format: 'headstart-head',
      headId: 'pets-1',
      labels: LABELS,
      inputDim: 6,
      base: { model: 'densenet121', weightsDigest: '0123456789abcdef', layer: 'avg_pool', namespace: 'densenet121@0123456789abcdef/avg_pool' },
      training: { epochs: 1, bestEpoch: 1, rows: { train: 12, validation: 3 } },
      files: { model: 'model.json', weights: 'weights.bin', metrics: 'metrics.json' },
      metrics: { accuracy: 2 / 3, confusionMatrix: [[1, 0, 0], [0, 1, 0], [0, 1, 0]], evaluatedOn: 'validation-split' },
    });
    expect(Date.parse(head.publishedAt)).not.toBeNaN();
  });

  it('deletes the pointer first, then every file', async () => {
    const store = recordingStore(new MemoryStore());
    await publish(store, 'pets-1');
    store.operations.length = 0;
    await deleteHead(store, 'pets-1');
    expect(store.operations[0]).toBe('delete models/heads/pets-1/_published.json');
    expect(store.operations.slice(1).sort()).toEqual(
      ['head.json', 'metrics.json', 'model.json', 'weights.bin'].map((f) => `delete models/heads/pets-1/${f}`),
    );
    expect(await keysUnder(store, 'models/')).toEqual([]);
  });

  it('answers HeadNotFoundError for unknown and deleted heads, and rejects malformed ids', async () => {
    const store = new MemoryStore();
    await publish(store, 'pets-1');
    await deleteHead(store, 'pets-1');
    await expect(deleteHead(store, 'pets-1')).rejects.toThrow("No published head 'pets-1'");
    await expect(getHead(store, 'nope')).rejects.toMatchObject({ code: 'HeadNotFound' });
    await expect(getHead(store, '../jobs')).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('loadHead', () => {
  it('loads a model that predicts exactly what the published one did, and leaks no tensor', async () => {
    const store = new MemoryStore();
    const draft = draftHead('pets-1');
    const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const expected = predictHead(draft.model, x, 6);
    await publishHead(store, draft);
    draft.model.dispose();
    await expectNoLeak(async () => {
      const { model, head } = await loadHead(store, 'pets-1');
      expect(head.labels).toEqual(LABELS);
      expect(Array.from(predictHead(model, x, 6))).toEqual(Array.from(expected));
      model.dispose();
    });
  });

  it('refuses weights that are not the published bytes, or missing', async () => {
    const store = new MemoryStore();
    await publish(store, 'pets-1');
    const key = 'models/heads/pets-1/weights.bin';
    const weights = await store.get(key);
    weights[0] ^= 0xff;
    await store.put(key, weights);
    await expect(loadHead(store, 'pets-1')).rejects.toThrow(CorruptHeadError);
    await store.delete(key);
    await expect(loadHead(store, 'pets-1')).rejects.toThrow("Head 'pets-1' is damaged: weights.bin is missing");
  });

  it('never lists a head whose pointer is gone even though its files remain', async () => {
    const store = new MemoryStore();
    await publish(store, 'pets-1');
    await store.delete(pointerKey('pets-1'));
    expect(await listHeads(store)).toEqual([]);
  });
});
