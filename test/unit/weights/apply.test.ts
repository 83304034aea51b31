import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { applyWeights, canonicalWeights, planWeights } from '../../../src/weights/apply.js';
import { WeightsMismatchError } from '../../../src/weights/errors.js';
import type { LayerWeights } from '../../../src/weights/types.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { modelWeights, outline, patternWeights, tinyModel } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const rename = (weights: LayerWeights, from: string, to: string): LayerWeights => weights.map((l) => (l.layer === from ? { ...l, layer: to } : l));

function errorOf(fn: () => unknown): WeightsMismatchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WeightsMismatchError);
    return error as WeightsMismatchError;
  }
  throw new Error('expected a WeightsMismatchError');
}

describe('applyWeights', () => {
  it('loads every layer by name, ignoring source layers the model lacks, without leaking tensors', async () => {
    const model = tinyModel({ includeTop: false });
    const source = patternWeights(tinyModel(), 5); // with-top source into a no-top model
    const result = await expectNoLeak(() => applyWeights(model, source));
    expect(result).toEqual({ loaded: ['conv1/conv', 'conv1/bn', 'block1_conv1'], skipped: [] });
    const loaded = modelWeights(model);
    loaded.forEach((l, i) => l.weights.forEach((w, k) => expect(w.data).toEqual(source[i]!.weights[k]!.data)));
    model.dispose();
  });

  it('produces the same outputs as the model the weights came from', () => {
    const original = tinyModel();
    const copy = tinyModel();
    applyWeights(copy, modelWeights(original));
    const x = tf.randomUniform([2, 8, 8, 3]);
    const [a, b] = [original.predict(x) as tf.Tensor, copy.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    original.dispose();
    copy.dispose();
  });

  it('renames source layers by alias, and matches "/" with "_" (Keras 3 names)', () => {
    const model = tinyModel();
    let source = rename(patternWeights(model, 6), 'predictions', 'fc1000');
    source = rename(source, 'conv1/bn', 'conv1_bn');
    expect(applyWeights(model, source, { aliases: { fc1000: 'predictions' } }).loaded).toHaveLength(5);
    expect(modelWeights(model)[4]!.weights[1]!.data).toEqual(source[4]!.weights[1]!.data);
    model.dispose();
  });

  it('reorders weights by name when the source lists them in another order (TF.js saves)', () => {
    const model = tinyModel({ includeTop: false });
    const source = patternWeights(model, 7);
    const bn = source[1]!;
    const reordered = source.map((l) => (l === bn ? { ...bn, weights: [...bn.weights].reverse() } : l));
    applyWeights(model, reordered);
    expect(modelWeights(model)[1]!.weights.map((w) => w.data[0])).toEqual(bn.weights.map((w) => w.data[0]));
    model.dispose();
  });

  it('names the layer, the weight and both shapes on a shape mismatch, and changes nothing', () => {
    const model = tinyModel();
    const before = modelWeights(model).map((l) => l.weights.map((w) => Array.from(w.data)));
    const source = patternWeights(tinyModel({ classes: 3 }), 8);
    const error = errorOf(() => applyWeights(model, source));
    expect(error.message).toBe("Layer 'predictions' weight 'kernel': model expects [5,2], file has [5,3].");
    expect(error).toMatchObject({ code: 'WeightsMismatch', layer: 'predictions', weight: 'kernel', expected: [5, 2], actual: [5, 3] });
    expect(modelWeights(model).map((l) => l.weights.map((w) => Array.from(w.data)))).toEqual(before);
    model.dispose();
  });

  it('names a model layer missing from the file and lists some that the file has', () => {
    const model = tinyModel();
    const source = patternWeights(tinyModel({ includeTop: false }), 9);
    const error = errorOf(() => applyWeights(model, source));
    expect(error.message).toBe("Layer 'fc1' of model 'tiny' has no weights in the file; the file has 'conv1/conv', 'conv1/bn', 'block1_conv1'.");
    expect(error.layer).toBe('fc1');
    model.dispose();
  });

  it('skips missing layers with skipMissing and reports them', () => {
    const model = tinyModel();
    const result = applyWeights(model, patternWeights(tinyModel({ includeTop: false }), 1), { skipMissing: true });
    expect(result.skipped).toEqual(['fc1', 'predictions']);
    model.dispose();
  });

  it('names both weight lists when the counts differ', () => {
    const model = tinyModel({ includeTop: false });
    const source = patternWeights(model, 2).map((l) => (l.layer === 'block1_conv1' ? { ...l, weights: l.weights.slice(0, 1) } : l));
    expect(() => applyWeights(model, source)).toThrow("Layer 'block1_conv1' has 2 weight(s) in the model (kernel, bias) but 1 in the file (kernel).");
    model.dispose();
  });
});

describe('canonicalWeights', () => {
  it("keeps only the model's layers, under the model's names and order", () => {
    const model = tinyModel({ includeTop: false });
    const source = rename(patternWeights(tinyModel(), 3), 'conv1/bn', 'conv1_bn').reverse();
    const canonical = canonicalWeights(planWeights(model, source));
    expect(outline(canonical)).toEqual(outline(patternWeights(model)));
    model.dispose();
  });
});
