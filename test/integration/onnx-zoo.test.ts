import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/engine/backend.js';
import { buildModel, featureExtractor, type ZooOptions } from '../../src/zoo/index.js';
import { compareEngines, randomizeWeights } from '../unit/onnx/helpers.js';

/**
 * Every zoo model, exported to ONNX and run in ONNX Runtime, agrees with TF.js to
 * 1e-4 × max(1, max |y|) on random weights (BatchNorm statistics and biases randomised too).
 * No-top models run at small sizes to keep CPU time low; MobileNetV2 and DenseNet121 also run
 * whole at 224 (logits, so that the check is not hidden behind a flat softmax).
 */
const cases: Array<[string, string, ZooOptions, number[]]> = [
  ['vgg16', 'no top, 32×32, avg pooling', { includeTop: false, inputShape: [32, 32, 3], pooling: 'avg' }, [2, 32, 32, 3]],
  ['vgg19', 'no top, 48×40, max pooling', { includeTop: false, inputShape: [48, 40, 3], pooling: 'max' }, [1, 48, 40, 3]],
  ['resnet50', 'no top, 64×64, avg pooling', { includeTop: false, inputShape: [64, 64, 3], pooling: 'avg' }, [2, 64, 64, 3]],
  ['resnet50', 'no top, 75×75 (odd sizes through the stride-2 stages)', { includeTop: false, inputShape: [75, 75, 3] }, [1, 75, 75, 3]],
  ['inception_v3', 'no top, 75×75, avg pooling', { includeTop: false, inputShape: [75, 75, 3], pooling: 'avg' }, [2, 75, 75, 3]],
  ['mobilenet_v2', 'no top, 64×64 (4-D output)', { includeTop: false, inputShape: [64, 64, 3] }, [2, 64, 64, 3]],
  ['mobilenet_v2', 'whole at 224, logits', { classifierActivation: null }, [1, 224, 224, 3]],
  ['densenet121', 'no top, 64×64, max pooling', { includeTop: false, inputShape: [64, 64, 3], pooling: 'max' }, [2, 64, 64, 3]],
  ['densenet121', 'whole at 224, logits', { classifierActivation: null }, [1, 224, 224, 3]],
];

describe('zoo models: ONNX Runtime matches TF.js', () => {
  let model: tf.LayersModel | undefined;

  beforeAll(async () => {
    await initBackend();
  });
  afterEach(() => {
    model?.dispose();
    model = undefined;
  });

  it.each(cases)('%s, %s', async (id, _what, options, inputShape) => {
    // Prepare
    model = buildModel(id, options);
    randomizeWeights(model);
    // Act
    const parity = await compareEngines(model, inputShape);
    // Assess
    expect(parity.onnxShape).toEqual(parity.tfjsShape);
    expect(parity.maxAbs).toBeGreaterThan(0);
    expect(parity.maxDiff).toBeLessThanOrEqual(parity.bound);
  });

  it('a feature cut inside DenseNet121 (pool3_pool, 4-D)', async () => {
    model = buildModel('densenet121', { includeTop: false, inputShape: [64, 64, 3] });
    randomizeWeights(model);
    const cut = featureExtractor(model, { layer: 'pool3_pool' });
    const parity = await compareEngines(cut, [1, 64, 64, 3]);
    expect(parity.onnxShape).toEqual([1, 4, 4, 256]);
    expect(parity.maxDiff).toBeLessThanOrEqual(parity.bound);
  });
});
