import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { DimensionMismatchError, InvalidHeadModelError } from '../../../src/heads/errors.js';
import { buildHeadModel, denseLayers } from '../../../src/heads/model.js';
import { predictHead } from '../../../src/heads/predict.js';
import { HEAD_WEIGHTS_FILE, deserializeHead, serializeHead } from '../../../src/heads/serialize.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { mulberry32 } from '../../../src/heads/random.js';

const DIM = 6;
const spec = { hidden: [5, 4], activation: 'tanh' as const, dropout: 0.3, seed: 11, l2: 0.01 };
const random = mulberry32(4);
const features = (rows: number) => Float32Array.from({ length: rows * DIM }, () => random() * 4 - 2);

describe('buildHeadModel', () => {
  it('names layers deterministically and seeds the initial weights', async () => {
    await initBackend();
    const a = buildHeadModel(DIM, 3, spec);
    const b = buildHeadModel(DIM, 3, spec);
    const c = buildHeadModel(DIM, 3, { ...spec, seed: 12 });
    try {
      expect(a.layers.map((l) => l.name)).toEqual(['head_dense_1', 'head_dropout_1', 'head_dense_2', 'head_dropout_2', 'head_predictions']);
      expect(denseLayers(a).map((l) => l.outputShape)).toEqual([[null, 5], [null, 4], [null, 3]]);
      expect(a.getWeights()[0].dataSync()).toEqual(b.getWeights()[0].dataSync());
      expect(a.getWeights()[0].dataSync()).not.toEqual(c.getWeights()[0].dataSync());
      const noDropout = buildHeadModel(DIM, 3, { ...spec, dropout: 0, hidden: [7] });
      expect(noDropout.layers.map((l) => l.name)).toEqual(['head_dense_1', 'head_predictions']);
      noDropout.dispose();
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });
});

describe('predictHead', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await initBackend();
    model = buildHeadModel(DIM, 3, spec);
  });
  afterAll(() => model.dispose());

  it('returns row-wise probabilities [N, C] without leaking', async () => {
    const probs = await expectNoLeak(() => predictHead(model, features(10), DIM));
    expect(probs.length).toBe(30);
    for (let r = 0; r < 10; r++) expect(probs[r * 3] + probs[r * 3 + 1] + probs[r * 3 + 2]).toBeCloseTo(1, 5);
  });

  it('gives the same answer in chunks as in one pass (more rows than a chunk)', () => {
    const x = features(4100);
    const chunked = predictHead(model, x, DIM);
    const direct = tf.tidy(() => (model.predict(tf.tensor2d(x, [4100, DIM])) as tf.Tensor).dataSync());
    expect(chunked).toEqual(direct);
  });

  it('returns nothing for no rows and rejects a wrong width', () => {
    expect(predictHead(model, new Float32Array(0), DIM).length).toBe(0);
    expect(() => predictHead(model, features(2), DIM + 1)).toThrow(new DimensionMismatchError('predictHead: dim is 7 but the head expects 6-d features.'));
    expect(() => predictHead(model, new Float32Array(7), DIM)).toThrow('predictHead: 7 feature values are not a whole number of 6-d rows.');
  });
});

describe('serializeHead / deserializeHead', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await initBackend();
    model = buildHeadModel(DIM, 3, spec);
  });
  afterAll(() => model.dispose());

  it('writes TF.js layers format with one weights shard, without leaking', async () => {
    const { modelJson, weightsBin } = await expectNoLeak(() => serializeHead(model));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual([HEAD_WEIGHTS_FILE]);
    expect(modelJson.weightsManifest[0].weights.map((w) => w.name)).toEqual([
      'head_dense_1/kernel',
      'head_dense_1/bias',
      'head_dense_2/kernel',
      'head_dense_2/bias',
      'head_predictions/kernel',
      'head_predictions/bias',
    ]);
    expect(weightsBin.byteLength).toBe(4 * (DIM * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3));
    const topology = JSON.stringify(modelJson.modelTopology);
    expect(topology).toContain('"name":"head_predictions"');
    expect(topology).toContain('"rate":0.3');
    expect(topology).toContain('"l2":0.01');
  });

  it('round-trips through JSON text to identical predictions; the loaded model is the caller’s to dispose', async () => {
    const { modelJson, weightsBin } = await serializeHead(model);
    const x = features(20);
    const before = tf.memory().numTensors;
    const loaded = await deserializeHead(JSON.parse(JSON.stringify(modelJson)), Uint8Array.from(weightsBin));
    expect(predictHead(loaded, x, DIM)).toEqual(predictHead(model, x, DIM));
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads weights from a Buffer view into a larger pool', async () => {
    const { modelJson, weightsBin } = await serializeHead(model);
    const pool = Buffer.alloc(weightsBin.byteLength + 64);
    pool.set(weightsBin, 32);
    const loaded = await deserializeHead(modelJson, pool.subarray(32, 32 + weightsBin.byteLength));
    const x = features(3);
    expect(predictHead(loaded, x, DIM)).toEqual(predictHead(model, x, DIM));
    loaded.dispose();
  });

  it('rejects what is not a head model, without leaking', async () => {
    const { modelJson, weightsBin } = await serializeHead(model);
    await expectNoLeak(async () => {
      await expect(deserializeHead({ format: 'layers-model' }, weightsBin)).rejects.toThrow(InvalidHeadModelError);
      await expect(deserializeHead(null, weightsBin)).rejects.toThrow('modelJson needs modelTopology and weightsManifest');
      await expect(deserializeHead(modelJson, weightsBin.subarray(0, 12))).rejects.toThrow(
        `deserializeHead: the manifest describes ${weightsBin.byteLength} bytes of weights but weightsBin has 12.`,
      );
      const broken = { ...modelJson, modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'NoSuchLayer', config: {} }] } } };
      await expect(deserializeHead(broken, weightsBin)).rejects.toThrow('deserializeHead: not a loadable TF.js layers model');
    });
  });
});
