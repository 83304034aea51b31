import { beforeAll, describe, expect, it } from 'vitest';
import { decodePredictions, imagenetClassNames, imagenetLabel } from '../../../src/classify/decode.js';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { expectNoLeak } from '../../helpers/tf.js';

beforeAll(async () => {
  await initBackend();
});

/** A 1000-way score vector: small noise everywhere, chosen classes set by hand. */
function scores(set: Record<number, number>): Float32Array {
  const row = new Float32Array(1000).map((_, i) => (i % 7) * 1e-5);
  for (const [index, value] of Object.entries(set)) row[Number(index)] = value;
  return row;
}

describe('imagenetLabel / imagenetClassNames', () => {
  it('gives the first name and all names of a class', () => {
    expect(imagenetLabel(0)).toBe('tench');
    expect(imagenetLabel(1)).toBe('goldfish');
    expect(imagenetLabel(207)).toBe('golden retriever');
    expect(imagenetLabel(999)).toBe('toilet tissue');
    expect(imagenetClassNames(0)).toEqual(['tench', 'Tinca tinca']);
  });

  it('refuses indices outside 0–999', () => {
    for (const bad of [-1, 1000, 2.5, NaN]) expect(() => imagenetLabel(bad)).toThrow(InvalidArgumentError);
    expect(() => imagenetLabel(1000)).toThrow('ImageNet class index must be an integer from 0 to 999, got 1000.');
  });
});

describe('decodePredictions', () => {
  it('returns the top classes by decreasing score for each row, like Keras decode_predictions', () => {
    const rows = [scores({ 22: 0.7, 207: 0.2, 1: 0.05 }), scores({ 999: 0.9, 0: 0.09 })];

    const decoded = decodePredictions(rows, 3);

    expect(decoded).toHaveLength(2);
    expect(decoded[0]!.map(({ classIndex, label }) => [classIndex, label])).toEqual([
      [22, 'bald eagle'],
      [207, 'golden retriever'],
      [1, 'goldfish'],
    ]);
    expect(decoded[0]![0]!.score).toBeCloseTo(0.7, 6);
    expect(decoded[1]!.slice(0, 2).map((p) => p.classIndex)).toEqual([999, 0]);
    expect(decoded[0]![0]).not.toHaveProperty('wnid'); // the bundled list has no WordNet ids
  });

  it('defaults to top 5, caps at 1000, and breaks ties by the lower index', () => {
    const flat = new Float32Array(1000).fill(0.001);

    expect(decodePredictions([scores({ 5: 1 })])[0]).toHaveLength(5);
    expect(decodePredictions([flat], 2000)[0]).toHaveLength(1000);
    expect(decodePredictions([flat], 3)[0]!.map((p) => p.classIndex)).toEqual([0, 1, 2]);
  });

  it('accepts a [N, 1000] tensor without disposing it or leaking', async () => {
    const preds = tf.tensor2d([...scores({ 340: 0.8 }), ...scores({ 388: 0.6 })], [2, 1000]);

    const decoded = await expectNoLeak(() => decodePredictions(preds, 1));

    expect(decoded.map((row) => [row[0]!.classIndex, row[0]!.label])).toEqual([
      [340, 'zebra'],
      [388, 'giant panda'],
    ]);
    expect(preds.isDisposed).toBe(false);
    preds.dispose();
  });

  it('ranks NaN scores last', () => {
    const row = scores({ 3: NaN, 4: 0.5 });

    const [top] = decodePredictions([row], 1000);

    expect(top![0]!.classIndex).toBe(4);
    expect(top![999]!.classIndex).toBe(3);
  });

  it("refuses other shapes with Keras' message", () => {
    const vector = tf.zeros([1000]);
    const wrong = tf.zeros([2, 10]);
    const keras = '`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). Received array with shape: ';

    expect(() => decodePredictions(vector)).toThrow(`${keras}(1000,)`);
    expect(() => decodePredictions(wrong)).toThrow(`${keras}(2, 10)`);
    expect(() => decodePredictions([new Float32Array(10)])).toThrow(`${keras}(1, 10)`);
    expect(() => decodePredictions([scores({})], 0)).toThrow('top must be a positive integer, got 0.');
    tf.dispose([vector, wrong]);
  });
});
