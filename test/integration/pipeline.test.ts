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
});
