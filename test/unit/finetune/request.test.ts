import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { DEFAULT_AUGMENT, FinetuneRequestError, resolveAugment, resolveFinetuneRequest, type FinetuneRequest } from '../../../src/finetune/index.js';

const base: FinetuneRequest = { dataset: 'flowers', model: 'densenet121', unfreeze: 'conv5' };

describe('resolveFinetuneRequest', () => {
  it('fills the defaults that work: Adam 1e-5, a few epochs, small batches, early stopping, no augmentation', () => {
    expect(resolveFinetuneRequest(base)).toEqual({
      dataset: 'flowers',
      model: 'densenet121',
      unfreeze: 'conv5',
      weights: 'imagenet',
      fromHead: null,
      inputSize: 224,
      interpolation: 'nearest',
      epochs: 5,
      batchSize: 8,
      learningRate: 1e-5,
      patience: 2,
      validationSplit: 0.2,
      seed: 42,
      dropout: 0.2,
      hidden: 100,
      augment: null,
      cacheFrozen: true,
      modelId: null,
    });
    expect(resolveFinetuneRequest({ ...base, model: 'inception_v3' }).inputSize).toBe(299);
  });

  it('accepts { lastN } and the given settings', () => {
    const r = resolveFinetuneRequest({ ...base, unfreeze: { lastN: 12 }, epochs: 3, fromHead: 'flowers-head', augment: true, weights: null, inputSize: 96 });
    expect(r).toMatchObject({ unfreeze: { lastN: 12 }, epochs: 3, fromHead: 'flowers-head', augment: DEFAULT_AUGMENT, weights: null, inputSize: 96 });
  });

  it('names the field and what it accepts', () => {
    const bad: Array<[Partial<FinetuneRequest> & Record<string, unknown>, string | RegExp]> = [
      [{ epochs: 0 }, "'epochs' must be an integer from 1 to 1000, got 0."],
      [{ learningRate: -1 }, "'learningRate' must be a number with 0 < learningRate < 1, got -1."],
      [{ unfreeze: '' }, /'unfreeze' must be a layer name, a block prefix such as 'conv5' or 'block5', or \{ lastN: <integer ≥ 0> \}/],
      [{ unfreeze: { lastN: 1.5 } }, /'unfreeze' must be/],
      [{ inputSize: 16 }, "'inputSize' must be an integer from 32 to 1024 for densenet121, got 16."],
      [{ interpolation: 'cubic' as never }, "Unknown interpolation 'cubic': expected 'nearest', 'bilinear', 'bicubic' or 'lanczos'."],
      [{ lr: 0.1 }, /^Unknown fine-tuning field 'lr': expected 'dataset', 'model', 'unfreeze', /],
      [{ validationSplit: 1 }, /'validationSplit' must be a number with 0 ≤ validationSplit < 1/],
    ];
    for (const [fields, message] of bad) {
      expect(() => resolveFinetuneRequest({ ...base, ...fields } as FinetuneRequest)).toThrow(message);
    }
    expect(() => resolveFinetuneRequest({ ...base, epochs: 0 })).toThrow(FinetuneRequestError);
  });

  it('checks the model, dataset and ids like the rest of the API', () => {
    expect(() => resolveFinetuneRequest({ ...base, model: 'vgg11' })).toThrow(/Unknown model 'vgg11': expected 'vgg16', /);
    expect(() => resolveFinetuneRequest({ ...base, dataset: '../etc' })).toThrow(/Invalid dataset name/);
    expect(() => resolveFinetuneRequest({ ...base, modelId: 'a/b' })).toThrow(/Invalid fine-tuned model id "a\/b"/);
    expect(() => resolveFinetuneRequest(null as unknown as FinetuneRequest)).toThrow(InvalidArgumentError);
  });
});

describe('resolveAugment', () => {
  it('maps true to the defaults, false to none, and completes partial settings', () => {
    expect(resolveAugment(true)).toEqual({ flip: true, zoom: 0.1, rotation: 10 });
    expect(resolveAugment(false)).toBeNull();
    expect(resolveAugment({ rotation: 0 })).toEqual({ flip: true, zoom: 0.1, rotation: 0 });
  });

  it('refuses unknown fields and out-of-range values', () => {
    expect(() => resolveAugment({ shear: 0.2 })).toThrow("Unknown augment field 'shear': expected 'flip', 'zoom' or 'rotation'.");
    expect(() => resolveAugment({ zoom: 1.5 })).toThrow("'augment.zoom' must be a number with 0 ≤ zoom < 1, got 1.5.");
    expect(() => resolveAugment('yes')).toThrow(/'augment' must be true, false or/);
  });
});
