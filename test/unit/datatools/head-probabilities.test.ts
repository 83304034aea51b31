import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { findIssues } from '../../../src/datatools/find-issues.js';
import { headOutOfFold } from '../../../src/datatools/head-probabilities.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import { buildHeadModel } from '../../../src/heads/model.js';
import { DEFAULT_HEAD_SPEC } from '../../../src/heads/spec.js';
import { publishHead } from '../../../src/registry/publish.js';
import { MemoryStore } from '../../../src/store/index.js';

/** Label issues from a published head's out-of-fold predictions (metrics.evaluation.samples) instead of a probe. */
const NS: FeatureNamespace = { model: 'densenet121', weightsDigest: 'abc', layer: 'avg_pool', pooling: 'avg', preprocess: 'torch', inputSize: [224, 224], interpolation: 'nearest', dtype: 'float32' };
const LABELS = ['cat', 'dog'];
const KEYS = ['images/pets/cat/1.png', 'images/pets/cat/2.png', 'images/pets/cat/3.png', 'images/pets/dog/4.png', 'images/pets/dog/5.png', 'images/pets/dog/6.png'];
const ROW_LABELS = KEYS.map((k) => k.split('/')[2]!);
/** Row 2 is labelled cat but the head is sure it is a dog. */
const PROBS = [[0.9, 0.1], [0.8, 0.2], [0.05, 0.95], [0.1, 0.9], [0.2, 0.8], [0.3, 0.7]];

let store: MemoryStore;

async function publish(headId: string, options: { dataset?: string; namespace?: string; keys?: string[]; createdAt: string; samples?: boolean }): Promise<void> {
  const model = buildHeadModel(4, 2, { ...DEFAULT_HEAD_SPEC, hidden: [] });
  const keys = options.keys ?? KEYS;
  const samples = keys.map((key, r) => ({ key, label: key.split('/')[2]!, predicted: PROBS[r]![0]! > 0.5 ? 'cat' : 'dog', probability: Math.max(...PROBS[r]!), probabilities: PROBS[r]! }));
  await publishHead(store, {
    model,
    info: {
      headId, dataset: options.dataset ?? 'pets', validationDataset: null, labels: LABELS, inputDim: 4,
      base: { ...NS, namespace: options.namespace ?? 'densenet121@abc/avg_pool' },
      training: { spec: { ...DEFAULT_HEAD_SPEC, hidden: [] }, epochs: 1, bestEpoch: 1, rows: { train: keys.length, validation: 0 }, backend: 'wasm', durationMs: 1 },
      library: 'test', createdAt: options.createdAt, jobId: null,
    },
    metrics: {
      accuracy: 0.8, loss: 0.4, perClass: {}, confusionMatrix: [], labels: LABELS, evaluatedOn: 'out-of-fold', rows: keys.length, bestEpoch: 1, history: [],
      ...(options.samples === false ? {} : { evaluation: { source: 'out-of-fold' as const, samples } }),
    },
  });
  model.dispose();
}

beforeAll(async () => {
  await initBackend();
});

beforeEach(() => {
  store = new MemoryStore('head-oof');
});

describe('headOutOfFold', () => {
  it("reads the newest head's out-of-fold probabilities when its samples are exactly the dataset's rows", async () => {
    await publish('pets-old', { createdAt: '2026-01-01T00:00:00.000Z' });
    await publish('pets-new', { createdAt: '2026-02-01T00:00:00.000Z' });

    const found = await headOutOfFold(store, NS, 'pets', { keys: KEYS, labels: ROW_LABELS });

    expect(found?.headId).toBe('pets-new');
    expect(found!.oof.classes).toEqual(LABELS);
    expect(Array.from(found!.oof.labelIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(found!.oof.probs)).toEqual(PROBS.flat().map((p) => Math.fround(p)));
  });

  it('passes over heads of another dataset or namespace, without samples, or trained before the dataset changed', async () => {
    await publish('other-dataset', { dataset: 'shop', createdAt: '2026-03-01T00:00:00.000Z' });
    await publish('other-namespace', { namespace: 'densenet121@abc/relu', createdAt: '2026-03-02T00:00:00.000Z' });
    await publish('no-samples', { samples: false, createdAt: '2026-03-03T00:00:00.000Z' });
    await publish('older-data', { keys: KEYS.slice(0, 5), createdAt: '2026-03-04T00:00:00.000Z' });
    expect(await headOutOfFold(store, NS, 'pets', { keys: KEYS, labels: ROW_LABELS })).toBeUndefined();

    // A relabelled image (moved to another class folder) is a different dataset too.
    await publish('fits', { createdAt: '2026-01-01T00:00:00.000Z' });
    const relabelled = ROW_LABELS.map((l, r) => (r === 0 ? 'dog' : l));
    expect(await headOutOfFold(store, NS, 'pets', { keys: KEYS, labels: relabelled })).toBeUndefined();
    expect((await headOutOfFold(store, NS, 'pets', { keys: KEYS, labels: ROW_LABELS }))?.headId).toBe('fits');
  });

  it('feeds findIssues, which then flags what the head disagrees with and trains no probe', async () => {
    await publish('pets-1', { createdAt: '2026-01-01T00:00:00.000Z' });
    const found = await headOutOfFold(store, NS, 'pets', { keys: KEYS, labels: ROW_LABELS });
    // Features that say nothing: any label issue found comes from the head's probabilities.
    const rows = { keys: KEYS, labels: ROW_LABELS, sha256: KEYS.map((k) => k), features: new Float32Array(KEYS.length * 4).fill(1), dim: 4 };

    const issues = await findIssues(rows, { outOfFold: found!.oof });

    expect(issues.labelIssues).toEqual([{ key: KEYS[2], givenLabel: 'cat', suggestedLabel: 'dog', score: expect.closeTo(0.95, 6) }]);
    expect(issues.notes).toEqual([]);
  });
});
