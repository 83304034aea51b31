import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { buildModel, featureExtractor, type FeatureCut } from '../../../src/zoo/index.js';
import { expectNoLeak } from '../../helpers/tf.js';

// MobileNetV2 and DenseNet121 are the small models: cheap to build, quick to run at 64x64.
describe('featureExtractor', () => {
  let top: tf.LayersModel;
  let noTop: tf.LayersModel;
  let densenet: tf.LayersModel;
  beforeAll(async () => {
    await initBackend();
    top = buildModel('mobilenet_v2', { inputShape: [96, 96, 3] });
    noTop = buildModel('mobilenet_v2', { includeTop: false });
    densenet = buildModel('densenet121', { includeTop: false, inputShape: [64, 64, 3] });
  });
  afterAll(() => {
    top.dispose();
    noTop.dispose();
    densenet.dispose();
  });

  it('cuts at a named layer and returns 4-D outputs as they are', () => {
    const cut = featureExtractor(top, { layer: 'out_relu' });
    expect(cut.outputs[0]!.shape).toEqual([null, 3, 3, 1280]);
    expect(cut.layers[cut.layers.length - 1]!.name).toBe('out_relu');
    expect(featureExtractor(top, { layer: 'global_average_pooling2d' }).outputs[0]!.shape).toEqual([null, 1280]);
  });

  it('shares the layers and weights of the model it cuts', async () => {
    const cut = featureExtractor(top, { layer: 'block_16_project_BN' });
    expect(cut.getLayer('Conv1')).toBe(top.getLayer('Conv1'));
    expect(cut.weights.every((w) => top.weights.includes(w))).toBe(true);
    // A weight change on the model shows in the extractor.
    const x = tf.ones([1, 96, 96, 3]);
    const before = cut.predict(x) as tf.Tensor;
    // getWeights() returns the variables themselves (not copies): only the new beta is ours to dispose.
    const [gamma, beta, mean, variance] = top.getLayer('block_16_project_BN').getWeights();
    const shiftedBeta = tf.add(beta!, 1);
    top.getLayer('block_16_project_BN').setWeights([gamma!, shiftedBeta, mean!, variance!]);
    const after = cut.predict(x) as tf.Tensor;
    const shift = tf.sub(after, before);
    const deltas = await shift.data();
    expect(Math.min(...deltas)).toBeCloseTo(1, 4);
    expect(Math.max(...deltas)).toBeCloseTo(1, 4);
    tf.dispose([x, before, after, shift, shiftedBeta]);
  });

  it("adds global pooling to a no-top model, named as Keras names that model's pooling", async () => {
    const avg = featureExtractor(noTop, { pooling: 'avg' });
    const max = featureExtractor(densenet, { pooling: 'max' });
    expect(avg.name).toBe(noTop.name);
    expect(avg.layers[avg.layers.length - 1]!.name).toBe('global_average_pooling2d');
    expect(max.layers[max.layers.length - 1]!.name).toBe('max_pool');
    expect(avg.outputs[0]!.shape).toEqual([null, 1280]);
    expect(max.outputs[0]!.shape).toEqual([null, 1024]);
    expect(avg.countParams()).toBe(noTop.countParams());
    const y = tf.tidy(() => max.predict(tf.randomUniform([2, 64, 64, 3])) as tf.Tensor);
    expect(y.shape).toEqual([2, 1024]);
    y.dispose();
  });

  it('pools to the mean and the max of the feature map', async () => {
    const x = tf.randomUniform([1, 64, 64, 3]);
    const [map, avg, max] = tf.tidy(() => [
      noTop.predict(x) as tf.Tensor,
      featureExtractor(noTop, { pooling: 'avg' }).predict(x) as tf.Tensor,
      featureExtractor(noTop, { pooling: 'max' }).predict(x) as tf.Tensor,
    ]);
    const [mean, peak] = tf.tidy(() => [map!.mean([1, 2]), map!.max([1, 2])]);
    const [pooled, expected] = [await avg!.data(), await mean!.data()];
    pooled.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(await max!.data()).toEqual(await peak!.data());
    tf.dispose([x, map!, avg!, max!, mean!, peak!]);
  });

  it('leaks no tensor when cutting and running', async () => {
    await expectNoLeak(async () => {
      const cut = featureExtractor(densenet, { layer: 'pool3_pool' });
      const y = tf.tidy(() => cut.predict(tf.zeros([1, 64, 64, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, 4, 4, 256]);
      y.dispose();
    });
  });

  it('names valid layers when the layer is unknown', () => {
    expect(() => featureExtractor(top, { layer: 'fc2' })).toThrow(InvalidArgumentError);
    expect(() => featureExtractor(top, { layer: 'fc2' })).toThrow(
      "Unknown layer 'fc2' in model 'mobilenetv2_1.00_96': expected one of 'block_16_expand_BN', 'block_16_expand_relu',",
    );
    expect(() => featureExtractor(top, { layer: 'fc2' })).toThrow("'global_average_pooling2d' or 'predictions' (156 layers in all");
    // Close names first: a partial name lists the layers it is part of.
    expect(() => featureExtractor(densenet, { layer: 'pool4' })).toThrow("expected one of 'pool4_bn', 'pool4_relu', 'pool4_conv' or 'pool4_pool'");
  });

  it('refuses pooling on a model that does not end in a feature map, and unknown cuts', () => {
    expect(() => featureExtractor(top, { pooling: 'avg' })).toThrow(
      "Pooling needs a model whose output is a 4-D feature map (built with includeTop: false and no pooling); 'mobilenetv2_1.00_96' outputs shape [null, 1000].",
    );
    expect(() => featureExtractor(noTop, { pooling: 'sum' } as unknown as FeatureCut)).toThrow("Unknown pooling 'sum': expected 'avg' or 'max'.");
    expect(() => featureExtractor(noTop, {} as FeatureCut)).toThrow("A feature cut must be { layer: '<name>' } or { pooling: 'avg' | 'max' }.");
  });
});
