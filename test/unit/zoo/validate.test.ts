import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { buildModel, getModelSpec, MODEL_IDS, validateZooOptions, type ZooOptions } from '../../../src/zoo/index.js';

const vgg16 = getModelSpec('vgg16');
const inception = getModelSpec('inception_v3');
const mobilenet = getModelSpec('mobilenet_v2');

function rejects(options: ZooOptions, message: string, spec = vgg16): void {
  expect(() => validateZooOptions(spec, options)).toThrow(InvalidArgumentError);
  expect(() => validateZooOptions(spec, options)).toThrow(message);
}

describe('getModelSpec', () => {
  it('describes each zoo model', () => {
    const summary = MODEL_IDS.map((id) => {
      const s = getModelSpec(id);
      return [s.id, s.kerasName, s.displayName, s.inputSize, s.preprocess, s.paramsWithTop, s.defaultFeatureLayer, s.defaultFeatureDim];
    });
    expect(summary).toEqual([
      ['vgg16', 'vgg16', 'VGG16', 224, 'caffe', 138_357_544, 'fc2', 4096],
      ['vgg19', 'vgg19', 'VGG19', 224, 'caffe', 143_667_240, 'fc2', 4096],
      ['resnet50', 'resnet50', 'ResNet50', 224, 'caffe', 25_636_712, 'avg_pool', 2048],
      ['inception_v3', 'inception_v3', 'InceptionV3', 299, 'tf', 23_851_784, 'avg_pool', 2048],
      ['mobilenet_v2', 'mobilenetv2_1.00_224', 'MobileNetV2', 224, 'tf', 3_538_984, 'global_average_pooling2d', 1280],
      ['densenet121', 'densenet121', 'DenseNet121', 224, 'torch', 8_062_504, 'avg_pool', 1024],
    ]);
    expect(inception.minInputSize).toBe(75);
    expect(mobilenet.weightInputSizes).toEqual([96, 128, 160, 192, 224]);
  });

  it('rejects an unknown id with the valid ids', () => {
    expect(() => getModelSpec('vgg17')).toThrow(InvalidArgumentError);
    expect(() => getModelSpec('vgg17')).toThrow(
      "Unknown model 'vgg17': expected 'vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2' or 'densenet121'.",
    );
  });
});

describe('buildModel', () => {
  it('refuses pretrained weights and points to loadModel', () => {
    expect(() => buildModel('vgg16', { weights: 'imagenet' })).toThrow(InvalidArgumentError);
    expect(() => buildModel('vgg16', { weights: 'imagenet' })).toThrow('use loadModel from src/weights');
    expect(() => buildModel('resnet50', { weights: '/models/resnet50.h5' })).toThrow('`weights` must be null');
  });

  it('rejects an unknown model before building anything', () => {
    expect(() => buildModel('alexnet')).toThrow("Unknown model 'alexnet'");
  });
});

describe('validateZooOptions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoo-validate-'));
  const weightsFile = join(dir, 'vgg16_weights.h5');
  writeFileSync(weightsFile, '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fills in Keras' defaults", () => {
    expect(validateZooOptions(vgg16)).toEqual({
      includeTop: true,
      weights: null,
      inputShape: [224, 224, 3],
      pooling: null,
      classes: 1000,
      classifierActivation: 'softmax',
      defaultSize: 224,
    });
    expect(validateZooOptions(vgg16, { includeTop: false }).inputShape).toEqual([null, null, 3]);
    expect(validateZooOptions(inception, { weights: 'imagenet' }).inputShape).toEqual([299, 299, 3]);
  });

  it('accepts null, imagenet or an existing path as weights, like Keras', () => {
    expect(validateZooOptions(vgg16, { weights: null }).weights).toBeNull();
    expect(validateZooOptions(vgg16, { weights: 'imagenet' }).weights).toBe('imagenet');
    expect(validateZooOptions(vgg16, { weights: weightsFile }).weights).toBe(weightsFile);
    rejects(
      { weights: join(dir, 'missing.h5') },
      "The `weights` argument should be either `null` (random initialization), 'imagenet' (pre-training on ImageNet), " +
        `or the path to the weights file to be loaded.  Received: weights=${join(dir, 'missing.h5')}`,
    );
  });

  it('requires 1000 classes for the imagenet classifier only', () => {
    rejects(
      { weights: 'imagenet', classes: 10 },
      "If using `weights='imagenet'` with `includeTop: true`, `classes` should be 1000.  Received classes=10",
    );
    expect(validateZooOptions(vgg16, { weights: 'imagenet', includeTop: false, classes: 10 }).classes).toBe(10);
    expect(validateZooOptions(vgg16, { classes: 10 }).classes).toBe(10);
    rejects({ classes: 0 }, '`classes` must be a positive integer; Received: classes=0');
    rejects({ classes: 2.5 }, '`classes` must be a positive integer');
  });

  it('requires the default input shape with the imagenet classifier', () => {
    rejects(
      { weights: 'imagenet', inputShape: [200, 200, 3] },
      'When setting `includeTop: true` and loading `imagenet` weights, `inputShape` should be [224, 224, 3].  Received: inputShape=[200, 200, 3]',
    );
    rejects({ weights: 'imagenet', inputShape: [224, 224, 3] }, 'should be [299, 299, 3]', inception);
    // Random weights: any static shape builds with the top, as in Keras.
    expect(validateZooOptions(vgg16, { inputShape: [200, 200, 3] }).inputShape).toEqual([200, 200, 3]);
  });

  it("takes MobileNetV2's published square sizes as its default size", () => {
    const resolved = validateZooOptions(mobilenet, { weights: 'imagenet', inputShape: [160, 160, 3] });
    expect(resolved.inputShape).toEqual([160, 160, 3]);
    expect(resolved.defaultSize).toBe(160);
    rejects({ weights: 'imagenet', inputShape: [150, 150, 3] }, '`inputShape` should be [224, 224, 3]', mobilenet);
  });

  it('enforces the minimum input size of each model', () => {
    rejects({ includeTop: false, inputShape: [31, 64, 3] }, 'Input size must be at least 32x32; Received: inputShape=[31, 64, 3]');
    rejects({ includeTop: false, inputShape: [74, 299, 3] }, 'Input size must be at least 75x75', inception);
    expect(validateZooOptions(inception, { includeTop: false, inputShape: [75, 75, 3] }).inputShape).toEqual([75, 75, 3]);
    expect(validateZooOptions(vgg16, { includeTop: false, inputShape: [null, 48, 3] }).inputShape).toEqual([null, 48, 3]);
  });

  it('requires 3 channels for imagenet weights and three dimensions always', () => {
    rejects(
      { weights: 'imagenet', includeTop: false, inputShape: [224, 224, 1] },
      'The input must have 3 channels; Received `inputShape=[224, 224, 1]`',
    );
    expect(validateZooOptions(vgg16, { includeTop: false, inputShape: [64, 64, 1] }).inputShape).toEqual([64, 64, 1]);
    rejects({ inputShape: [224, 224] as unknown as [number, number, number] }, '`inputShape` must be a tuple of three integers');
    rejects({ inputShape: [224, 224, null] as unknown as [number, number, number] }, 'Received: inputShape=[224, 224, null]');
  });

  it('needs a static input shape with the top', () => {
    rejects(
      { inputShape: [null, null, 3] },
      'If `includeTop` is true, you should specify a static `inputShape`. Received: inputShape=[null, null, 3]',
    );
  });

  it("accepts only 'avg', 'max' or null pooling", () => {
    expect(validateZooOptions(vgg16, { includeTop: false, pooling: 'max' }).pooling).toBe('max');
    rejects({ includeTop: false, pooling: 'sum' as 'avg' }, "Unknown pooling 'sum': expected 'avg', 'max' or null.");
  });

  it('validates the classifier activation as Keras validate_activation', () => {
    expect(validateZooOptions(vgg16, { classifierActivation: null }).classifierActivation).toBe('linear');
    expect(validateZooOptions(vgg16, { classifierActivation: 'sigmoid' }).classifierActivation).toBe('sigmoid');
    expect(validateZooOptions(vgg16, { weights: 'imagenet', classifierActivation: null }).classifierActivation).toBe('linear');
    rejects(
      { weights: 'imagenet', classifierActivation: 'relu' },
      'Only `null` and `softmax` activations are allowed for the `classifierActivation` argument when using pretrained weights, ' +
        'with `includeTop: true`; Received: classifierActivation=relu',
    );
    // Without the top the activation is ignored, as in Keras.
    expect(() => validateZooOptions(vgg16, { weights: 'imagenet', includeTop: false, classifierActivation: 'relu' })).not.toThrow();
    rejects({ classifierActivation: 'leaky' }, "Unknown classifierActivation 'leaky': expected 'softmax', 'linear', 'sigmoid'");
  });

  it('rejects options Keras does not have, listing the valid ones', () => {
    rejects(
      { include_top: false } as ZooOptions,
      "Unknown model option 'include_top': expected 'includeTop', 'weights', 'inputShape', 'pooling', 'classes' or 'classifierActivation'.",
    );
    rejects({ includeTop: 'no' as unknown as boolean }, '`includeTop` must be true or false');
  });
});
