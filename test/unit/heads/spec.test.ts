import { describe, expect, it } from 'vitest';
import { HeadSpecError } from '../../../src/heads/errors.js';
import { DEFAULT_HEAD_SPEC, resolveHeadSpec } from '../../../src/heads/spec.js';
import type { HeadSpec } from '../../../src/heads/types.js';

describe('resolveHeadSpec', () => {
  it('fills every default', () => {
    expect(resolveHeadSpec()).toEqual({
      hidden: [256],
      activation: 'relu',
      dropout: 0.2,
      learningRate: 1e-3,
      epochs: 30,
      batchSize: 64,
      validationSplit: 0.2,
      seed: 42,
      patience: 5,
      classWeights: null,
      l2: 0,
      engine: 'auto',
    });
  });

  it('keeps given values, treats undefined as unset and copies arrays', () => {
    const hidden = [100];
    const spec = resolveHeadSpec({ hidden, dropout: 0, epochs: undefined, classWeights: { cat: 2 } });
    expect(spec.hidden).toEqual([100]);
    expect(spec.hidden).not.toBe(hidden);
    expect(spec.dropout).toBe(0);
    expect(spec.epochs).toBe(DEFAULT_HEAD_SPEC.epochs);
    expect(spec.classWeights).toEqual({ cat: 2 });
  });

  it('accepts an empty hidden list (softmax regression)', () => {
    expect(resolveHeadSpec({ hidden: [] }).hidden).toEqual([]);
  });

  const rejected: [HeadSpec, string][] = [
    [{ hidden: [0] }, 'HeadSpec.hidden must be an array of positive integers, got [0].'],
    [{ hidden: 256 as unknown as number[] }, 'HeadSpec.hidden must be an array of positive integers, got 256.'],
    [{ dropout: 1 }, 'HeadSpec.dropout must be a number with 0 ≤ dropout < 1, got 1.'],
    [{ learningRate: 0 }, 'HeadSpec.learningRate must be a finite number > 0, got 0.'],
    [{ epochs: 2.5 }, 'HeadSpec.epochs must be an integer ≥ 1, got 2.5.'],
    [{ batchSize: 0 }, 'HeadSpec.batchSize must be an integer ≥ 1, got 0.'],
    [{ validationSplit: -0.1 }, 'HeadSpec.validationSplit must be a number with 0 ≤ validationSplit < 1, got -0.1.'],
    [{ seed: -1 }, 'HeadSpec.seed must be an integer from 0 to 4294967295, got -1.'],
    [{ patience: -1 }, 'HeadSpec.patience must be an integer ≥ 0, got -1.'],
    [{ l2: Number.NaN }, 'HeadSpec.l2 must be a finite number ≥ 0, got null.'],
    [{ classWeights: 'auto' as never }, "HeadSpec.classWeights must be 'balanced', null or a map label → weight, got \"auto\"."],
    [{ classWeights: { cat: -1 } }, "HeadSpec.classWeights['cat'] must be a finite number ≥ 0, got -1."],
  ];
  it.each(rejected)('rejects %j', (spec, message) => {
    expect(() => resolveHeadSpec(spec)).toThrow(HeadSpecError);
    expect(() => resolveHeadSpec(spec)).toThrow(message);
  });

  it('lists the valid activations, engines and fields', () => {
    expect(() => resolveHeadSpec({ activation: 'leaky' as never })).toThrow(
      "Unknown activation 'leaky': expected 'relu', 'relu6', 'elu', 'selu', 'gelu', 'swish', 'tanh', 'sigmoid', 'softplus' or 'linear'.",
    );
    expect(() => resolveHeadSpec({ engine: 'gpu' as never })).toThrow("Unknown engine 'gpu': expected 'auto', 'tfjs', 'js' or 'fit'.");
    expect(() => resolveHeadSpec({ learning_rate: 0.1 } as never)).toThrow(
      "Unknown HeadSpec field 'learning_rate': expected 'hidden', 'activation', 'dropout', 'learningRate', 'epochs', 'batchSize', " +
        "'validationSplit', 'seed', 'patience', 'classWeights', 'l2' or 'engine'.",
    );
  });

  it('errors are 4xx-mappable InvalidArgument errors', () => {
    try {
      resolveHeadSpec({ epochs: 0 });
    } catch (error) {
      expect((error as HeadSpecError).code).toBe('InvalidArgument');
      expect((error as HeadSpecError).name).toBe('HeadSpecError');
    }
  });
});
