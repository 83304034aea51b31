import { describe, expect, it } from 'vitest';
import { parsePredictRequest } from '../../../src/jobs/index.js';
import { predictRequestOf } from '../../../src/cli/commands/predict.js';
import { toCsv, toJsonl } from '../../../src/predict/index.js';

describe('parsePredictRequest (POST /predict)', () => {
  it('takes a dataset or a prefix, a head or a model, top and an http(s) webhook', () => {
    expect(parsePredictRequest({ dataset: 'shop', head: 'h1' })).toEqual({ dataset: 'shop', head: 'h1' });
    expect(parsePredictRequest({ prefix: 'images/shop/_unlabelled/', model: 'densenet121', top: 3, webhook: 'https://example.com/hook?x=1' })).toEqual({
      prefix: 'images/shop/_unlabelled/',
      model: 'densenet121',
      top: 3,
      webhook: 'https://example.com/hook?x=1',
    });
  });

  it.each([
    [{ head: 'h1' }, "exactly one of 'dataset'"],
    [{ dataset: 'a', prefix: 'images/a/', head: 'h1' }, "exactly one of 'dataset'"],
    [{ dataset: 'a' }, "exactly one of 'head'"],
    [{ dataset: 'a', head: 'h1', model: 'densenet121' }, "exactly one of 'head'"],
    [{ dataset: '../x', head: 'h1' }, 'Invalid dataset name'],
    [{ prefix: 'features/x/', head: 'h1' }, "must be under images/"],
    [{ prefix: 'images/a/../b/', head: 'h1' }, "the segment '..'"],
    [{ prefix: 'images//a/', head: 'h1' }, 'an empty segment'],
    [{ dataset: 'a', head: 'h1', top: 0 }, "'top' must be an integer from 1 to 100"],
    [{ dataset: 'a', head: 'h1', top: 2.5 }, "'top' must be an integer"],
    [{ dataset: 'a', head: 'h1', webhook: 'ftp://example.com/x' }, "must use http or https, got 'ftp'"],
    [{ dataset: 'a', head: 'h1', webhook: 'javascript:alert(1)' }, 'must use http or https'],
    [{ dataset: 'a', head: 'h1', webhook: 'not a url' }, 'absolute http or https URL'],
    [{ dataset: 'a', head: 'h1', webhook: 'https://user:secret@example.com/' }, 'must not carry credentials'],
    [{ dataset: 'a', head: 'h1', colour: 'red' }, "Unknown field 'colour'"],
    [[], 'must be a JSON object'],
  ])('refuses %j with a message that says why', (body, message) => {
    expect(() => parsePredictRequest(body)).toThrow(message);
  });

  it('the CLI builds the same request from its flags and refuses the same mistakes', () => {
    expect(predictRequestOf({ dataset: 'shop', head: 'h1', top: '3' })).toEqual({ dataset: 'shop', head: 'h1', top: 3 });
    expect(() => predictRequestOf({ head: 'h1' })).toThrow('--dataset');
    expect(() => predictRequestOf({ dataset: 'shop', head: 'h', model: 'm' })).toThrow('--head');
    expect(() => predictRequestOf({ dataset: 'shop', head: 'h', webhook: 'file:///etc/passwd' })).toThrow('http or https');
  });
});

describe('results files', () => {
  const rows = [
    { key: 'images/a/x/1.png', label: 'cat', probability: 0.5, top: [{ label: 'cat', probability: 0.5 }, { label: 'dog', probability: 0.25 }], source: 'cached' as const },
    { key: 'images/a/x/"odd", name.png', error: { code: 'CorruptImage', message: 'truncated,\nbadly' } },
  ];
  it('results.jsonl is one JSON object per line', () => {
    expect(toJsonl(rows).split('\n').slice(0, -1).map((l) => JSON.parse(l))).toEqual(rows);
  });
  it('results.csv quotes what needs quoting (RFC 4180)', () => {
    expect(toCsv(rows)).toBe(
      'key,label,probability,top,source,error_code,error_message\r\n' +
        'images/a/x/1.png,cat,0.5,cat:0.5;dog:0.25,cached,,\r\n' +
        '"images/a/x/""odd"", name.png",,,,,CorruptImage,"truncated,\nbadly"\r\n',
    );
  });
});
