import { describe, expect, it } from 'vitest';
import { errorKey, featureKey, imageKeyOfLink, linkIsStale, linkKey, parseImageKey, validateDatasetName } from '../../../src/features/keys.js';
import type { FeatureNamespace } from '../../../src/features/pipeline.js';

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

describe('storage keys', () => {
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
});
