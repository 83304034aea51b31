import { describe, expect, it } from 'vitest';
import { linkIsStale } from '../../src/features/links.js';
import type { FeatureNamespace } from '../../src/features/pipeline.js';
import {
  checkpointPrefix,
  datasetPrefix,
  errorKey,
  featureKey,
  imageKey,
  imageKeyOfLink,
  jobKey,
  linkKey,
  modelPrefix,
  MODEL_PREFIX,
  parseImageKey,
  predictionsPrefix,
  reviewsPrefix,
  shardPrefix,
  thumbnailKey,
  exportKey,
  validateDatasetName,
  weightsIndexKey,
  weightsPrefix,
} from '../../src/layout.js';

const ns: FeatureNamespace = {
  model: 'densenet121',
  weightsDigest: '54c78f72bc58c073',
  layer: 'avg_pool',
  pooling: null,
  preprocess: 'torch',
  inputSize: [224, 224],
  interpolation: 'nearest',
  dtype: 'float32',
};

describe('storage keys (src/layout.ts)', () => {
  it('lays out content-addressed feature keys per model, weights digest and layer', () => {
    expect(featureKey(ns, 'ab'.repeat(32))).toBe(`features/densenet121@54c78f72bc58c073/avg_pool/${'ab'.repeat(32)}.safetensors`);
    expect(featureKey({ ...ns, layer: 'relu' }, 'cd')).not.toBe(featureKey(ns, 'cd'));
    expect(featureKey({ ...ns, weightsDigest: 'ffff' }, 'cd')).not.toBe(featureKey(ns, 'cd'));
    expect(errorKey('ef')).toBe('errors/ef.json');
  });

  it('parses class-folder image keys and refuses keys outside the layout', () => {
    expect(parseImageKey('images/fmnist/bag/t 1.png')).toEqual({ key: 'images/fmnist/bag/t 1.png', dataset: 'fmnist', label: 'bag', file: 't 1.png' });
    expect(parseImageKey('images/fmnist/bag/sub/x.png')?.file).toBe('sub/x.png');
    expect(parseImageKey('images/fmnist/x.png')).toBeUndefined();
    expect(parseImageKey('features/fmnist/bag/x.png')).toBeUndefined();
    expect(parseImageKey('images/fmnist//x.png')).toBeUndefined();
  });

  it('maps an image key to its link and back', () => {
    const link = linkKey(ns, 'images/fmnist/bag/a.png');
    expect(link).toBe('features/densenet121@54c78f72bc58c073/avg_pool/links/fmnist/bag/a.png.json');
    expect(imageKeyOfLink(ns, link)).toBe('images/fmnist/bag/a.png');
  });

  it('treats an image as re-uploaded only when it is over a second newer than its link', () => {
    const t = new Date('2026-01-01T00:00:10Z');
    expect(linkIsStale({ lastModified: t }, { lastModified: t })).toBe(false);
    expect(linkIsStale({ lastModified: new Date(t.getTime() + 1000) }, { lastModified: t })).toBe(false);
    expect(linkIsStale({ lastModified: new Date(t.getTime() + 2000) }, { lastModified: t })).toBe(true);
  });

  it('validates dataset names with a message that says what is allowed', () => {
    expect(validateDatasetName('fmnist-small_2')).toBe('fmnist-small_2');
    for (const bad of ['', '../x', 'a/b', '-lead', 'x'.repeat(129)]) {
      expect(() => validateDatasetName(bad)).toThrow(/use 1–128 letters, digits, '\.', '_' or '-'/);
    }
  });

  it('lays out every prefix: images, models, jobs, weights and the planned ones', () => {
    expect(datasetPrefix('pets')).toBe('images/pets/');
    expect(imageKey('pets', 'cat', 'sub/a.jpg')).toBe('images/pets/cat/sub/a.jpg');
    expect(shardPrefix(ns, 'pets')).toBe('features/densenet121@54c78f72bc58c073/avg_pool/shards/pets/');
    expect(modelPrefix(MODEL_PREFIX.heads, 'h1')).toBe('models/heads/h1/');
    expect(modelPrefix(MODEL_PREFIX.finetuned, 'f1')).toBe('models/finetuned/f1/');
    expect(jobKey('job-1')).toBe('jobs/job-1.json');
    expect(checkpointPrefix('job-1')).toBe('jobs/job-1/checkpoint/');
    expect(weightsPrefix('vgg16', 'notop')).toBe('weights/vgg16/notop/');
    expect(weightsIndexKey('vgg16', 'top')).toBe('weights/vgg16/top/index.json');
    expect(predictionsPrefix('job-1')).toBe('predictions/job-1/');
    expect(reviewsPrefix('pets')).toBe('reviews/pets/');
    expect(thumbnailKey('images/pets/cat/a.jpg', 128)).toBe('thumbnails/128/pets/cat/a.jpg.jpg');
    expect(exportKey('pets-ft', 'onnx', '0123abcd')).toBe('exports/pets-ft/onnx/0123abcd.zip');
    expect(() => exportKey('..', 'onnx', 'v')).toThrow(/Invalid model id/);
  });

  it("never builds a key with an empty, '.' or '..' segment, and says which segment is wrong", () => {
    expect(() => datasetPrefix('..')).toThrow(`Invalid dataset name "..": it has the segment '..'; every path segment must be non-empty and not '.' or '..'.`);
    expect(() => imageKey('pets', '', 'a.jpg')).toThrow(/Invalid label "": it has an empty segment/);
    expect(() => imageKey('pets', 'cat', 'x/../../jobs/j.json')).toThrow(/Invalid file name "x\/\.\.\/\.\.\/jobs\/j\.json": it has the segment '\.\.'/);
    expect(() => linkKey(ns, 'images/pets/./a.jpg')).toThrow(/it has the segment '\.'/);
    expect(() => linkKey(ns, 'jobs/a.json')).toThrow('must be under images/');
    expect(() => featureKey({ ...ns, layer: '..' }, 'ab')).toThrow(/Invalid feature namespace/);
    expect(() => jobKey('a/b')).toThrow(/Invalid job id/);
    expect(() => modelPrefix(MODEL_PREFIX.heads, '.')).toThrow(/Invalid model id/);
    expect(() => weightsPrefix('', 'top')).toThrow(/Invalid model id/);
    expect(() => thumbnailKey('images/pets//a.jpg', 64)).toThrow(/empty segment/);
    expect(() => thumbnailKey('images/pets/cat/a.jpg', 0)).toThrow('Thumbnail size must be a positive integer, got 0.');
    expect(parseImageKey('images/pets/../a.jpg')).toBeUndefined();
    expect(parseImageKey('images/pets/cat/./a.jpg')).toBeUndefined();
  });
});
