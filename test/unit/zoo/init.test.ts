import { describe, expect, it } from 'vitest';
import { fillUniform, glorotLimit } from '../../../src/zoo/init.js';

describe('glorot uniform', () => {
  it('bounds draws by sqrt(6 / (fanIn + fanOut)) with fans as Keras computes them', () => {
    expect(glorotLimit([25088, 4096])).toBeCloseTo(Math.sqrt(6 / (25088 + 4096)), 12);
    // 3x3 conv, 64 → 128 channels: fans include the receptive field.
    expect(glorotLimit([3, 3, 64, 128])).toBeCloseTo(Math.sqrt(6 / (9 * 64 + 9 * 128)), 12);
    // Depthwise kernel [3, 3, C, 1].
    expect(glorotLimit([3, 3, 96, 1])).toBeCloseTo(Math.sqrt(6 / (9 * 96 + 9)), 12);
  });

  it('fills a uniform distribution on [-limit, limit)', () => {
    const values = new Float32Array(200_000);
    fillUniform(values, 0.5);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let squares = 0;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
      squares += v * v;
    }
    expect(min).toBeGreaterThanOrEqual(-0.5);
    expect(max).toBeLessThan(0.5);
    expect(min).toBeLessThan(-0.499);
    expect(max).toBeGreaterThan(0.499);
    expect(sum / values.length).toBeCloseTo(0, 2);
    // Variance of U(-a, a) is a²/3.
    expect(squares / values.length).toBeCloseTo(0.25 / 3, 3);
  });
});
