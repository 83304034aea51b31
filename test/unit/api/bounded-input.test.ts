import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, readRequestImages } from '../../../functions/classify/body.js';
import { describeValue, HeadstartError, MESSAGE_FIELDS, unknownFieldsMessage } from '../../../src/errors.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../../src/util/json.js';
import { jsonEvent } from '../classify-api/events.js';
import { testApi } from './fixtures.js';

const nested = (depth: number, open = '{"a":', leaf = '1', close = '}') => open.repeat(depth) + leaf + close.repeat(depth);
const manyFields = (n: number, prefix = '') => Array.from({ length: n }, (_, i) => `"${prefix}${i}":1`).join(',');

describe('request bodies: nesting depth', () => {
  it.each([
    ['a deeply nested head object', `{"dataset":"pets","head":${nested(20_000)}}`],
    ['a deeply nested head array', `{"dataset":"pets","head":${nested(20_000, '[', '', ']')}}`],
    ['a deeply nested dataset', `{"dataset":${nested(20_000, '[', '', ']')}}`],
    ['a fine-tuning request nested in unfreeze', `{"mode":"finetune","dataset":"pets","unfreeze":${nested(20_000)}}`],
    ['one level past the bound', `{"dataset":"pets","head":{"classWeights":${nested(MAX_JSON_DEPTH - 1)}}}`],
  ])('POST /train with %s answers 400 InvalidJson naming the bound (was a 500 from a stack overflow)', async (_name, body) => {
    const api = testApi();

    const response = await api.call('POST', '/train', { body });

    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: 'InvalidJson',
      message: `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; no request of this API needs more.`,
    });
  });

  it('a body at the bound is validated as usual', async () => {
    const api = testApi();

    const response = await api.call('POST', '/train', { body: `{"dataset":"pets","head":{"classWeights":${nested(MAX_JSON_DEPTH - 2)}}}` });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('InvalidTrainRequest');
    expect(response.body.error.message).toContain("classWeights['a'] must be a finite number ≥ 0");
  });

  it('POST /classify with a deeply nested JSON body is a MalformedJson 400', async () => {
    const error = await readRequestImages(jsonEvent(`{"images":[${nested(20_000, '[', '', ']')}]}`), DEFAULT_LIMITS).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HeadstartError);
    expect((error as HeadstartError).code).toBe('MalformedJson');
    expect((error as HeadstartError).message).toContain(`more than ${MAX_JSON_DEPTH} levels deep`);
  });

  it('exceedsJsonDepth counts objects and arrays, not scalars, and walks without recursion', () => {
    expect(exceedsJsonDepth({ a: [1, { b: 'x' }] }, 3)).toBe(false);
    expect(exceedsJsonDepth({ a: [1, { b: ['x'] }] }, 3)).toBe(true);
    expect(exceedsJsonDepth('a string', 0)).toBe(false);
    expect(exceedsJsonDepth(JSON.parse(nested(1_000_000, '[', '', ']')))).toBe(true);
  });
});

describe('request bodies: error message size', () => {
  it.each([
    ['POST /train', `{"dataset":"pets",${manyFields(400_000, 'f')}}`, 'InvalidTrainRequest', "Unknown fields 'f0', 'f1', 'f2', 'f3', 'f4' and 399,995 more: expected 'dataset', 'validationDataset', 'model', 'namespace' or 'head'."],
    ['POST /train head', `{"dataset":"pets","head":{${manyFields(400_000, 'f')}}}`, 'InvalidTrainRequest', "head: Unknown HeadSpec fields 'f0', 'f1', 'f2', 'f3', 'f4' and 399,995 more: expected 'hidden'"],
    ['POST /backfill', `{"dataset":"pets",${manyFields(400_000, 'f')}}`, 'InvalidArgument', "Unknown fields 'f0', 'f1', 'f2', 'f3', 'f4' and 399,995 more: expected 'dataset' or 'shards'."],
    ['POST /uploads', `{"dataset":"pets","label":"cat","file":"a.jpg",${manyFields(400_000, 'f')}}`, 'InvalidArgument', "Unknown fields 'f0', 'f1', 'f2', 'f3', 'f4' and 399,995 more: expected 'dataset', 'label', 'file' or 'contentType'."],
  ])('%s with 400,000 unknown fields names five and counts the rest in a small message (backfill sent 4 MB)', async (route, body, code, start) => {
    const api = testApi();
    const [method, path] = route.split(' ') as [string, string];

    const response = await api.call(method, path, { body });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message.startsWith(start)).toBe(true);
    expect(JSON.stringify(response.body).length).toBeLessThan(600);
  });

  it('a 4 MB value is quoted cut short', async () => {
    const api = testApi();

    const response = await api.call('POST', '/train', { body: { dataset: 'pets', head: { hidden: 'x'.repeat(4_000_000) } } });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/^head: HeadSpec\.hidden must be an array of positive integers, got "x{119}…\.$/);
  });

  it('unknownFieldsMessage keeps one or a few names as before and cuts long names', () => {
    expect(unknownFieldsMessage(['lr'], ['a', 'b'])).toBe("Unknown field 'lr': expected 'a' or 'b'.");
    expect(unknownFieldsMessage(['x', 'y'], ['a'], 'HeadSpec field')).toBe("Unknown HeadSpec fields 'x' and 'y': expected 'a'.");
    const names = Array.from({ length: MESSAGE_FIELDS + 1 }, (_, i) => `k${i}`);
    expect(unknownFieldsMessage(names, ['a'])).toBe("Unknown fields 'k0', 'k1', 'k2', 'k3', 'k4' and 1 more: expected 'a'.");
    expect(unknownFieldsMessage(['y'.repeat(10_000)], ['a']).length).toBeLessThan(200);
    expect(describeValue(JSON.parse(nested(100_000, '[', '', ']')))).toBe('[object Array]');
  });
});
