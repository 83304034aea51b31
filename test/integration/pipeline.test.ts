import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/engine/backend.js';
import { FeaturePipeline } from '../../src/features/pipeline.js';
import { makeJpeg } from '../helpers/images.js';

describe('FeaturePipeline', () => {
  it('on the TF.js engine, fails a bad image alone and frees the model it loaded on dispose', async () => {
    await initBackend();
    const images = [await makeJpeg(1, 64), await makeJpeg(2, 64), Buffer.from('junk')];
    const before = tf.memory().numTensors;
    const tfjs = await FeaturePipeline.create({ model: 'mobilenet_v2', weights: null, engine: 'tfjs', cut: { pooling: 'avg' } });
    const results = await tfjs.extract(images);
    tfjs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[0]!.ok && results[0]!.shape).toEqual([1280]);
    expect(tfjs.namespace).toMatchObject({ model: 'mobilenet_v2', weightsDigest: 'random', layer: 'global_average_pooling2d', pooling: 'avg', inputSize: [224, 224] });
  });

  it('keeps input order across batches while the next batch decodes during inference', async () => {
    await initBackend();
    const pipeline = await FeaturePipeline.create({ model: 'mobilenet_v2', weights: null, engine: 'onnx', cut: { pooling: 'avg' }, batchSize: 2 });
    try {
      const a = await makeJpeg(11, 48);
      const b = await makeJpeg(12, 48);
      const results = await pipeline.extract([a, b, Buffer.from('bad'), a, b]);
      expect(results.map((r) => r.ok)).toEqual([true, true, false, true, true]);
      const features = results.map((r) => (r.ok ? Array.from(r.features.slice(0, 8)) : null));
      // Same bytes in another batch and position give the same features: nothing was shuffled.
      expect(features[3]).toEqual(features[0]);
      expect(features[4]).toEqual(features[1]);
      expect(features[0]).not.toEqual(features[1]);
    } finally {
      pipeline.dispose();
    }
  });

  it('with two ONNX Runtime sessions, infers batches side by side with the same weights and keeps input order', async () => {
    await initBackend();
    const pipeline = await FeaturePipeline.create({ model: 'mobilenet_v2', weights: null, engine: 'onnx', cut: { pooling: 'avg' }, batchSize: 2, sessions: 2 });
    try {
      const [a, b, c] = await Promise.all([makeJpeg(21, 48), makeJpeg(22, 48), makeJpeg(23, 48)]);
      // Batches [a, b] [bad, a] [b, c] [a]: two model calls in flight at a time, one on each session.
      const results = await pipeline.extract([a, b, Buffer.from('bad'), a, b, c, a]);
      expect(results.map((r) => r.ok)).toEqual([true, true, false, true, true, true, true]);
      const features = results.map((r) => (r.ok ? Array.from(r.features) : null));
      for (const [i, j] of [[0, 3], [0, 6], [1, 4]] as const) expect(features[j]).toEqual(features[i]);
      expect(features[0]).not.toEqual(features[1]);
      expect(features[5]).not.toEqual(features[0]);
    } finally {
      pipeline.dispose();
    }
  });
});
