import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { decideLabel } from '../../../functions/classify/predictions.js';
import { parseClassifyQuery, parseMinConfidence } from '../../../functions/classify/query.js';

const top = [
  { label: 'bag', score: 0.62 },
  { label: 'coat', score: 0.3 },
];

describe('minConfidence', () => {
  it('answers the top label at or above the threshold, and label null with belowThreshold below it', () => {
    expect(decideLabel(top, 0.6)).toEqual({ label: 'bag', belowThreshold: false });
    expect(decideLabel(top, 0.62)).toEqual({ label: 'bag', belowThreshold: false });
    expect(decideLabel(top, 0.63)).toEqual({ label: null, belowThreshold: true });
    expect(decideLabel([], 0.1)).toEqual({ label: null, belowThreshold: true });
  });

  it('adds nothing to an answer that did not ask for a threshold', () => {
    expect(decideLabel(top, undefined)).toBeUndefined();
  });

  it('comes from the query or a JSON body as a probability from 0 to 1, with a clear error otherwise', () => {
    expect(parseClassifyQuery({ queryStringParameters: { minConfidence: '0.8' } })).toMatchObject({ minConfidence: 0.8 });
    expect(parseClassifyQuery({ queryStringParameters: {} }).minConfidence).toBeUndefined();
    expect(parseMinConfidence(0.25)).toBe(0.25);
    for (const bad of ['1.5', '-0.1', 'high', '', 2, null]) {
      expect(() => parseMinConfidence(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => parseMinConfidence('high')).toThrow(`'minConfidence' must be a number from 0 to 1, got "high".`);
  });
});
