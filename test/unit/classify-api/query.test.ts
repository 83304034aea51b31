import { describe, expect, it } from 'vitest';
import { parseClassifyQuery, parseExplainQuery, parseFeaturesQuery } from '../../../functions/classify/query.js';
import { InvalidArgumentError } from '../../../src/errors.js';

const MODELS = "'vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2' or 'densenet121'";
const q = (query: Record<string, string> | null) => ({ queryStringParameters: query });

describe('parseClassifyQuery', () => {
  it('defaults: no model, no head, top 5', () => {
    expect(parseClassifyQuery(q(null))).toEqual({ model: undefined, head: undefined, top: 5 });
  });

  it('reads model, head and top', () => {
    expect(parseClassifyQuery(q({ model: 'densenet121', head: 'flowers-20250101-000000-abc123', top: '3' }))).toEqual({
      model: 'densenet121',
      head: 'flowers-20250101-000000-abc123',
      top: 3,
    });
    expect(parseClassifyQuery(q({ top: '1000' })).top).toBe(1000);
  });

  it('a model that is no zoo id is a fine-tuned model id; one that cannot be an id lists the valid ones', () => {
    expect(parseClassifyQuery(q({ model: 'pets-ft-20260101-120000-abcdef' }))).toEqual({ finetuned: 'pets-ft-20260101-120000-abcdef', top: 5 });
    expect(parseClassifyQuery(q({ model: 'densenet121' }))).toEqual({ model: 'densenet121', top: 5 });
    expect(() => parseClassifyQuery(q({ model: '../alexnet' }))).toThrow(
      new InvalidArgumentError(`Unknown model '../alexnet': expected ${MODELS}, or the id of a fine-tuned model (GET /models lists them).`),
    );
    expect(() => parseClassifyQuery(q({ model: 'pets-ft-1', head: 'pets-1' }))).toThrow(/not both/);
  });

  it.each(['0', '1001', '-1', '2.5', 'five', '1e2'])('top=%s is refused with its range', (top) => {
    expect(() => parseClassifyQuery(q({ top }))).toThrow(new InvalidArgumentError(`'top' must be an integer from 1 to 1000, got '${top}'.`));
  });

  it('a head id that cannot exist (a path) is refused before any read', () => {
    expect(() => parseClassifyQuery(q({ head: '../weights' }))).toThrow(/Invalid head id "..\/weights"/);
  });

  it('an unknown parameter lists the known ones', () => {
    expect(() => parseClassifyQuery(q({ topk: '3' }))).toThrow(new InvalidArgumentError("Unknown query parameter 'topk': expected 'model', 'head', 'top', 'review', 'minConfidence' or 'dataset'."));
  });
});

describe('parseFeaturesQuery', () => {
  it('no parameters: the service model and cut (left to the service)', () => {
    expect(parseFeaturesQuery(q(null), 'mobilenet_v2')).toEqual({ model: undefined });
  });

  it('a model, a feature layer of it, or a pooling', () => {
    expect(parseFeaturesQuery(q({ model: 'densenet121', layer: 'pool4_pool' }), 'mobilenet_v2')).toEqual({ model: 'densenet121', cut: { layer: 'pool4_pool' } });
    expect(parseFeaturesQuery(q({ pooling: 'max' }), 'densenet121')).toEqual({ model: undefined, cut: { pooling: 'max' } });
  });

  it('an unknown layer lists the model’s feature layers', () => {
    expect(() => parseFeaturesQuery(q({ layer: 'fc2' }), 'densenet121')).toThrow(
      new InvalidArgumentError("Unknown feature layer 'fc2' for densenet121: expected 'avg_pool', 'relu', 'pool4_pool', 'pool3_pool' or 'pool2_pool'."),
    );
  });

  it('an unknown pooling, both layer and pooling, an unknown model', () => {
    expect(() => parseFeaturesQuery(q({ pooling: 'sum' }), 'vgg16')).toThrow(new InvalidArgumentError("Unknown pooling 'sum': expected 'avg' or 'max'."));
    expect(() => parseFeaturesQuery(q({ layer: 'fc2', pooling: 'avg' }), 'vgg16')).toThrow(/Give either 'layer' or 'pooling', not both/);
    expect(() => parseFeaturesQuery(q({ model: 'vgg/16' }), 'vgg16')).toThrow(`Unknown model 'vgg/16': expected ${MODELS}, or the id of a fine-tuned model`);
    expect(parseFeaturesQuery(q({ model: 'pets-ft-1' }), 'vgg16')).toEqual({ finetuned: 'pets-ft-1' });
    expect(() => parseFeaturesQuery(q({ model: 'pets-ft-1', pooling: 'avg' }), 'vgg16')).toThrow(/leave out 'layer' and 'pooling'/);
  });
});

describe('parseExplainQuery', () => {
  it('reads model or head, class, layer and top; defaults: the service model, the top class, the last feature map', () => {
    expect(parseExplainQuery(q(null))).toEqual({ model: undefined, head: undefined, className: undefined, layer: undefined, top: 5 });
    expect(parseExplainQuery(q({ model: 'densenet121', class: 'bald eagle', layer: 'pool4_pool', top: '2' }))).toEqual({
      model: 'densenet121',
      head: undefined,
      className: 'bald eagle',
      layer: 'pool4_pool',
      top: 2,
    });
    expect(parseExplainQuery(q({ head: 'pets-1' })).head).toBe('pets-1');
  });

  it('refuses a fine-tuned model, model with head, and unknown parameters, listing the valid values', () => {
    expect(() => parseExplainQuery(q({ model: 'pets-ft-20260101-120000-abcdef' }))).toThrow(
      new InvalidArgumentError(`POST /explain explains a zoo model's ImageNet classifier (${MODELS}) or a head (head=<id>), not fine-tuned model 'pets-ft-20260101-120000-abcdef'.`),
    );
    expect(() => parseExplainQuery(q({ model: 'densenet121', head: 'pets-1' }))).toThrow(/not both/);
    expect(() => parseExplainQuery(q({ pooling: 'avg' }))).toThrow("Unknown query parameter 'pooling': expected 'model', 'head', 'class', 'layer' or 'top'.");
  });
});
